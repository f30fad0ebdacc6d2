// The decision forms of a score report: release, confirm a changed result, request, confirm or
// withdraw an invalidation, rescore. Which forms show follows the result's state (the server's
// action table decides; a refused action comes back as an error shown beside the form).

import { $, stateText, submitting } from "./ui.js";

const RELEASABLE = new Set(["ready", "withheld"]);

export class Decisions {
  // `run(method path body, done)`: posts, reloads the report, then says what happened.
  constructor({ attemptId, run }) {
    Object.assign(this, { attemptId, run });
    this.wire();
  }

  url(path) { return `/api/v1/results/${this.attemptId}${path}`; }

  reason(form) { return form.elements.namedItem("reason").value.trim(); }

  wire() {
    const release = $("release-form");
    release.addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = this.reason(release);
      submitting(release, () => this.run(this.url("/release"), reason ? { reason } : {}, (r) =>
        `Result released to the candidate: ${r.passed ? "passed" : "not passed"}${r.passed ? "; the credential is issued" : ""}.`,
      release));
    });

    const confirm = $("confirm-form");
    confirm.addEventListener("submit", (event) => {
      event.preventDefault();
      submitting(confirm, () => this.run(this.url("/confirm-change"), { reason: this.reason(confirm) }, (r) =>
        `Change confirmed: the candidate now sees ${r.passed ? "a pass" : "a fail"} (${r.percent}%).`, confirm));
    });

    const invalidation = $("invalidation-form");
    invalidation.addEventListener("submit", (event) => {
      event.preventDefault();
      const step = (event.submitter && event.submitter.value) || "request";
      const path = { request: "/invalidation", confirm: "/invalidation/confirm", withdraw: "/invalidation/withdraw" }[step];
      const said = {
        request: "Invalidation requested; a second examiner must confirm it.",
        confirm: "Result invalidated; any credential it issued is revoked.",
        withdraw: "Invalidation request withdrawn.",
      }[step];
      submitting(invalidation, () => this.run(this.url(path), { reason: this.reason(invalidation) }, () => said, invalidation));
    });

    const rescore = $("rescore-form");
    rescore.addEventListener("submit", (event) => {
      event.preventDefault();
      submitting(rescore, () => this.run(this.url("/score"), undefined, (r) =>
        `Rescored: ${r.percent}%, ${stateText(r.state).toLowerCase()}.`, rescore));
    });
  }

  // Shows the forms that apply to the result as it now stands.
  update(result, me) {
    const releasable = RELEASABLE.has(result.state);
    $("release-form").hidden = !releasable;
    $("release-note").textContent = result.state === "withheld"
      ? "This result is withheld for integrity review: say why the review lets it stand."
      : "The result is complete and has no integrity concern.";
    $("confirm-form").hidden = !result.change_pending;

    const open = result.state !== "invalidated";
    const requested = result.invalidation_requested_by !== null;
    $("invalidation-form").hidden = !open;
    $("invalidation-request").hidden = requested;
    $("invalidation-confirm").hidden = !requested;
    $("invalidation-withdraw").hidden = !requested;
    $("invalidation-note").textContent = requested
      ? `Invalidation requested by ${result.invalidation_requested_by === me ? "you" : "another examiner"}: `
        + `"${result.invalidation_reason}". ${result.invalidation_requested_by === me ? "A second examiner must confirm it." : "Confirm it, or withdraw the request."}`
      : "Invalidating needs two examiners: one requests, another confirms.";
  }

  clear() {
    for (const id of ["release-form", "confirm-form", "invalidation-form"]) $(id).reset();
  }
}
