// The organiser's pages. On the RQ dashboard (web/organiser_rq.py), jQuery's requests carry
// our CSRF token, so its buttons (requeue, delete, empty) pass the check every POST meets.
"use strict";

(() => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && window.jQuery) {
    window.jQuery.ajaxSetup({ headers: { "X-CSRFToken": meta.content } });
  }
})();
