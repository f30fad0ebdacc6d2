// The receipt after submitting: a reference the candidate can quote, when, how many answered,
// and what happens next.
"use strict";

Api.requireSignIn();
const box = document.getElementById("receipt");
const $ = (id) => document.getElementById(id);

Api.get(`/api/v1/attempts/${box.dataset.attempt}/receipt`).then((receipt) => {
  $("receipt-title").textContent = `${receipt.title} (${receipt.tier} tier)`;
  $("receipt-reference").textContent = receipt.reference;
  $("receipt-time").textContent = `${Format.when(receipt.submitted_at)}${receipt.submitted_by === "candidate" ? "" : ", when the time ran out"}`;
  $("receipt-answered").textContent = `${receipt.answered} of ${receipt.total} questions`;
  $("receipt-next").replaceChildren(...receipt.next_steps.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  }));
  box.setAttribute("aria-busy", "false");
}).catch((error) => {
  $("receipt-error").textContent = error.message;
  $("receipt-error").hidden = false;
});
