// "Your credentials" on the candidate's exams page: each credential's public page and certificate,
// and the signed file (VC-JWT) or its JSON to download. The section stays hidden until there is one.

// `Api` is the global of api.js (a classic script loaded first: a global binding, not window.Api).
const section = document.getElementById("credentials");
const STATUS = { valid: "Valid", revoked: "Revoked", expired: "Expired", not_yet_valid: "Not yet valid" };

function link(text, href) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

function showError(message) {
  const box = document.getElementById("credentials-error");
  box.textContent = message;
  box.hidden = false;
}

// The download needs the bearer token, so it is fetched here and handed to the browser as a file.
async function download(credential, format) {
  const query = format === "json" ? "?format=json" : "";
  const response = await fetch(`/api/v1/credentials/${credential.id}/download${query}`, {
    headers: { Authorization: `Bearer ${Api.token()}` },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error((body && body.detail) || `download failed (${response.status})`);
  }
  const url = URL.createObjectURL(await response.blob());
  const anchor = link("", url);
  anchor.download = `mlocp-${credential.tier}-${credential.id}.${format}`;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function downloadButton(credential, format, text) {
  const button = document.createElement("button");
  button.className = "secondary";
  button.textContent = text;
  button.addEventListener("click", () => download(credential, format).catch((error) => showError(error.message)));
  return button;
}

function row(body, credential) {
  const tr = body.insertRow();
  tr.dataset.credential = credential.id;
  tr.insertCell().textContent = credential.title;
  const day = (iso) => new Date(iso).toLocaleDateString();
  tr.insertCell().textContent = `${day(credential.issued_at)} to ${day(credential.expires_at)}`;
  const status = tr.insertCell();
  status.textContent = STATUS[credential.status] || credential.status;
  if (credential.revocation_reason) status.title = credential.revocation_reason;
  const actions = tr.insertCell();
  actions.append(link("Public page", credential.verification_url), " ", link("Certificate", credential.certificate_url));
  if (credential.signed) {
    actions.append(" ", downloadButton(credential, "jwt", "Download"), " ", downloadButton(credential, "json", "JSON"));
  }
}

async function load() {
  const credentials = await Api.get("/api/v1/me/credentials");
  const body = section.querySelector("tbody");
  body.replaceChildren();
  for (const credential of credentials) row(body, credential);
  section.hidden = credentials.length === 0;
}

if (Api.token()) load().catch((error) => { section.hidden = false; showError(error.message); });
