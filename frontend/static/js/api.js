// The API client shared by every page: bearer token in sessionStorage, JSON in and out.
"use strict";

const Api = (() => {
  const TOKEN = "exam.token";
  const EXPIRES = "exam.token.expires";

  function token() { return sessionStorage.getItem(TOKEN); }
  function signIn(grant) {
    sessionStorage.setItem(TOKEN, grant.access_token);
    sessionStorage.setItem(EXPIRES, String(Date.now() + grant.expires_in * 1000));
    if (grant.role) sessionStorage.setItem("role", grant.role); // which pages to link; the API decides access
  }
  // Unsent answers stay in localStorage when a session simply expires; an explicit sign-out
  // (clearAnswers) also removes them, so the next person at a shared machine cannot read them.
  function signOut(clearAnswers = false) {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem("role");
    if (clearAnswers) forget("exam.");
    location.assign("/login");
  }
  function forget(prefix) {
    for (const name of Object.keys(localStorage)) if (name.startsWith(prefix)) localStorage.removeItem(name);
  }

  // Tokens are short-lived; a page that stays open (an exam) renews its token before it lapses.
  async function keepFresh() {
    const expires = Number(sessionStorage.getItem(EXPIRES) || 0);
    if (!token() || expires - Date.now() > 3 * 60 * 1000) return;
    try { signIn(await request("POST", "/api/v1/auth/refresh")); } catch (error) { /* the next call decides */ }
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
