// The deal page (loaded on every page: everything here first checks for #deal).
// - Ticking a step submits its form; htmx swaps the changed regions in place (see deal.html).
// - The move form shows the reason fields the chosen target needs.
// - After a swap, every form on the page carries the deal's new version.
"use strict";
(() => {
  const page = () => document.getElementById("deal");

  /** Shows the override and lost-reason fields when the chosen target needs them, or when
   * they already hold text or an error (never hides what the user typed). */
  function syncMoveForm() {
    const select = document.getElementById("deal-move-to");
    if (!select) return;
    const option = select.options[select.selectedIndex];
    const needs = {
      override: !!option && option.dataset.override === "true",
      lost: !!option && option.dataset.lost === "true",
    };
    for (const field of document.querySelectorAll("#deal .reason[data-reason]")) {
      const area = field.querySelector("textarea");
      const keep = (area && area.value.trim() !== "") || field.querySelector(".field-error");
      field.hidden = !(needs[field.dataset.reason] || keep);
    }
  }

  /** Every `version` field on the page gets the version of the deal as last rendered. */
  function syncVersion() {
    const header = document.getElementById("deal-header");
    if (!header || !header.dataset.version) return;
    for (const input of document.querySelectorAll('#deal input[name="version"]')) {
      input.value = header.dataset.version;
    }
  }

  // Ticking or unticking a step: submit its form (htmx handles the submit event).
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || !page()) return;
    if (target.matches('input[type="checkbox"][data-step]')) {
      const form = target.form;
      if (!form) return;
      const done = form.querySelector('input[name="done"]');
      if (done) done.value = target.checked ? "true" : "false";
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    } else if (target.id === "deal-move-to") {
      syncMoveForm();
    }
  });

  // The move select is swapped after a tick: keep the user's choice.
  let chosen = null;
  document.addEventListener("htmx:beforeRequest", () => {
    const select = document.getElementById("deal-move-to");
    chosen = select ? select.value : null;
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!page()) return;
    const select = document.getElementById("deal-move-to");
    if (select && chosen !== null && Array.from(select.options).some((o) => o.value === chosen)) {
      select.value = chosen;
    }
    syncVersion();
    syncMoveForm();
  });

  // A step that could not be saved (the deal is gone, the network failed): show the truth.
  const reload = () => {
    if (page()) window.location.reload();
  };
  document.addEventListener("htmx:responseError", reload);
  document.addEventListener("htmx:sendError", reload);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", syncMoveForm);
  } else {
    syncMoveForm();
  }
})();
