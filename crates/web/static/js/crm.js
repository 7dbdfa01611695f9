// crm screens. Loaded on every page: each behaviour first looks for its own elements.
"use strict";
(() => {
  // Forms that create something (convert a lead, start a process from a template) are sent
  // once: a second click while the first is on its way would be refused or create a twin.
  const once = '[data-testid="convert-form"], [data-testid="use-template"], [data-testid="lead-form"], ' +
    '[data-testid="account-form"], [data-testid="contact-form"]';
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches(once) || event.defaultPrevented) return;
    // After the submission has read its fields (a disabled button would not be sent).
    setTimeout(() => {
      form.querySelectorAll('button[type="submit"]').forEach((b) => { b.disabled = true; });
    }, 0);
  });
  // Coming back with the browser's back button shows the form usable again.
  window.addEventListener("pageshow", () => {
    document.querySelectorAll(once).forEach((form) => {
      form.querySelectorAll('button[type="submit"]').forEach((b) => { b.disabled = false; });
    });
  });
})();
