// Streams a run's log into <pre id="retraining-log"> over the WebSocket /ws/runs/<id>/logs.
// The page writes the run id into the hidden #retraining-log-run; this script follows it.
(function () {
  let socket = null;
  let current = null;

  function connect(runId) {
    const pre = document.getElementById("retraining-log");
    if (!pre || !runId || runId === current) return;
    if (socket) socket.close();
    current = runId;
    pre.textContent = "";
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/runs/${runId}/logs`);
    socket.onmessage = function (event) {
      const message = JSON.parse(event.data);
      if (message.type === "log") {
        pre.textContent += message.text;
      } else if (message.type === "status") {
        pre.textContent += `--- run ${runId} ${message.status}${message.error ? ": " + message.error : ""}\n`;
      } else if (message.type === "error") {
        pre.textContent += `--- ${message.error}\n`;
      }
      pre.scrollTop = pre.scrollHeight;
    };
  }

  function watch() {
    const holder = document.getElementById("retraining-log-run");
    if (!holder) { current = null; return; }
    if (holder.dataset.watched !== "1") {
      holder.dataset.watched = "1";
      new MutationObserver(() => connect(holder.textContent.trim())).observe(holder, {
        childList: true, characterData: true, subtree: true,
      });
    }
    connect(holder.textContent.trim());
  }

  // Dash renders pages client-side: look for the element whenever the page changes.
  new MutationObserver(watch).observe(document.documentElement, { childList: true, subtree: true });
})();
