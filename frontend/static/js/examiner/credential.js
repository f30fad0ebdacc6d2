// The credential a released pass issued: its status, its public verification page, and revocation
// with a reason (shown to anyone who verifies it).

import { $, announce, dateTime, el, reasonField, submitting } from "./ui.js";

const STATUS = {
  valid: "Valid", revoked: "Revoked", expired: "Expired", not_yet_valid: "Not yet valid", invalid: "Does not verify",
};

function revokeForm(credential, reload) {
  const form = el("form", { id: "revoke-form", className: "decision", noValidate: true },
    el("fieldset", {},
      el("legend", { textContent: "Revoke the credential" }),
      reasonField("revoke-reason", "Reason", "Shown on the public verification page."),
      el("button", { type: "submit", className: "danger", textContent: "Revoke credential" }),
      el("p", { className: "error", dataset: { role: "form-error" }, hidden: true })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = form.elements.namedItem("reason").value.trim();
    submitting(form, async () => {
      await Api.post(`/api/v1/credentials/${credential.id}/revoke`, { reason });
      await reload();
      announce("Credential revoked; its verification page now says so.");
      $("credential-title").focus();
    });
  });
  return form;
}

export async function renderCredential(container, result) {
  if (!result.passed || !result.released_at) {
    container.replaceChildren(el("p", { className: "muted", textContent: "A credential is issued when a pass is released." }));
    return;
  }
  let found;
  try {
    const all = await Api.get(`/api/v1/credentials?candidate_id=${encodeURIComponent(result.candidate_id)}`);
    found = all.find((c) => c.attempt_id === result.attempt_id);
  } catch (error) {
    container.replaceChildren(el("p", { className: "error", textContent: `The credential could not be read: ${error.message}` }));
    return;
  }
  if (!found) {
    container.replaceChildren(el("p", { className: "muted", textContent: "No credential was issued for this sitting." }));
    return;
  }
  const reload = () => renderCredential(container, result);
  const facts = el("dl", { className: "facts" },
    el("dt", { textContent: "Certification" }), el("dd", { textContent: found.title }),
    el("dt", { textContent: "Status" }), el("dd", { className: `credential-status status-${found.status}`, textContent: STATUS[found.status] || found.status }),
    el("dt", { textContent: "Issued" }), el("dd", { textContent: dateTime(found.issued_at) }),
    el("dt", { textContent: "Valid until" }), el("dd", { textContent: dateTime(found.expires_at) }),
    ...(found.revoked_at ? [el("dt", { textContent: "Revoked" }), el("dd", { textContent: `${dateTime(found.revoked_at)}: ${found.revocation_reason}` })] : []),
    el("dt", { textContent: "Public page" }),
    el("dd", {}, el("a", { id: "credential-link", href: `/credentials/${found.id}`, textContent: `/credentials/${found.id}` })));
  container.replaceChildren(...[facts, found.revoked_at ? null : revokeForm(found, reload)].filter(Boolean));
}
