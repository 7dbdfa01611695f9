// Every page: send the session's CSRF token with every htmx request (forms carry `_csrf`
// themselves). No inline script anywhere: the Content-Security-Policy forbids it.
"use strict";
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
});

/** The CSRF token of this page, for scripts that call `fetch` themselves. */
window.salesflowCsrf = () => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
};
