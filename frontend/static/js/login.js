"use strict";

// where each role starts after signing in
const HOME = { candidate: "/exams", proctor: "/proctor", admin: "/proctor", examiner: "/examiner" };

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("login-error");
  error.hidden = true;
  const form = new URLSearchParams({
    username: document.getElementById("email").value,
    password: document.getElementById("password").value,
  });
  const response = await fetch("/api/v1/auth/token", { method: "POST", body: form });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    error.textContent = body.detail || "Sign-in failed.";
    error.hidden = false;
    return;
  }
  const home = HOME[body.role];
  if (!home) { // an account no page here is made for stays signed out
    error.textContent = "This account has no pages here; ask an administrator.";
    error.hidden = false;
    return;
  }
  Api.signIn(body);
  location.assign(home);
});
