// The API client shared by every page: bearer token in sessionStorage, JSON in and out.
"use strict";

const Api = (() => {
  const TOKEN = "exam.token";

  function token() { return sessionStorage.getItem(TOKEN); }
  function signIn(accessToken) { sessionStorage.setItem(TOKEN, accessToken); }
  function signOut() { sessionStorage.removeItem(TOKEN); location.assign("/login"); }

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
    token, signIn, signOut, requireSignIn, ApiError, clientSession,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
  };
})();
