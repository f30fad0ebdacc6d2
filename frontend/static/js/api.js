// The API client shared by every page: bearer token in sessionStorage, JSON in and out.
"use strict";

const Api = (() => {
  const TOKEN = "exam.token";
  const EXPIRES = "exam.token.expires";
  const REFRESH = "exam.token.refresh";

  function token() { return sessionStorage.getItem(TOKEN); }
  function signIn(grant) {
    sessionStorage.setItem(TOKEN, grant.access_token);
    sessionStorage.setItem(EXPIRES, String(Date.now() + grant.expires_in * 1000));
    sessionStorage.setItem(REFRESH, grant.refresh_token);
    if (grant.role) sessionStorage.setItem("role", grant.role); // which pages to link; the API decides access
  }
  // Unsent answers stay in localStorage when a session simply expires; an explicit sign-out
  // (clearAnswers) also removes them, so the next person at a shared machine cannot read them.
  function signOut(clearAnswers = false) {
    for (const name of [TOKEN, EXPIRES, REFRESH, "role"]) sessionStorage.removeItem(name);
    if (clearAnswers) forget("exam.");
    location.assign("/login");
  }
  function forget(prefix) {
    for (const name of Object.keys(localStorage)) if (name.startsWith(prefix)) localStorage.removeItem(name);
  }

  // Tokens are short-lived; a page that stays open (an exam) renews its token before it lapses.
  // Each refresh token works once: the answer carries the next one. Only one renewal runs at a
  // time, and a renewal whose answer was lost is retried at once with the same refresh token
  // (the server accepts that retry for a short while; a later reuse ends the session).
  let renewing = null;
  async function renew() {
    const refreshToken = sessionStorage.getItem(REFRESH);
    if (!refreshToken) return;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let response;
      try {
        response = await fetch("/api/v1/auth/refresh", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ refresh_token: refreshToken }),
        });
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 2000)); // offline: try again shortly
        continue;
      }
      if (response.ok) { signIn(await response.json()); return; }
      if (response.status === 401) { signOut(); return; }
      return; // throttled or failing: the next tick tries again
    }
  }
  async function keepFresh() {
    const expires = Number(sessionStorage.getItem(EXPIRES) || 0);
    if (!token() || expires - Date.now() > 3 * 60 * 1000) return;
    if (!renewing) renewing = renew().finally(() => { renewing = null; });
    await renewing;
  }
  setInterval(keepFresh, 30 * 1000);

  // One id per browser tab, kept across reloads, so the server can tell a second browser apart.
  function clientSession() {
    let id = sessionStorage.getItem("exam.client");
    if (!id) {
      id = crypto.randomUUID ? crypto.randomUUID().replaceAll("-", "") : String(Math.random()).slice(2);
      sessionStorage.setItem("exam.client", id);
    }
    return id;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.detail) || `request failed (${status})`);
      this.status = status;
      this.body = body || {};
    }
  }

  async function request(method, path, body) {
    const headers = { "X-Client-Session": clientSession() };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) { signOut(); throw new ApiError(401, { detail: "Please sign in again." }); }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function requireSignIn() { if (!token()) location.assign("/login"); }

  return {
    token, signIn, signOut, forget, requireSignIn, ApiError, clientSession,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
  };
})();
