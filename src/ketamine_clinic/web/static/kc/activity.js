// Marks htmx requests that a person caused (typing, clicking) so the server counts them as
// activity for the automatic logoff; polls ("every 60s") carry no triggering event and stay
// unmarked, so an open page alone never keeps a login alive.
document.addEventListener("htmx:configRequest", function (event) {
  var cause = event.detail.triggeringEvent;
  if (cause && cause.isTrusted) {
    event.detail.headers["X-KC-User-Action"] = "1";
  }
});
