// The rerun form: check the side branch as it is typed, trigger, follow the run.
(function () {
  "use strict";
  const form = document.getElementById("rerun");
  if (!form) return;
  const api = form.dataset.api;
  const repo = form.dataset.repo;
  const branch = form.elements.output_branch;
  const hint = document.getElementById("branch-check");
  const status = document.getElementById("run-status");
  let timer = null;

  function setHint(text, ok) {
    hint.textContent = text;
    hint.className = "hint " + (ok ? "ok" : "bad");
    branch.setCustomValidity(ok ? "" : text);
  }

  async function checkBranch() {
    const name = branch.value;
    if (!/^\w[-\w]*$/.test(name)) {
      setHint("letters, digits, '_' and '-' only, not starting with '-'", false);
      return false;
    }
    const q = new URLSearchParams({ repo: repo, name: name });
    const answer = await fetch(api + "/branch-check?" + q, { credentials: "same-origin" });
    const result = await answer.json();
    setHint(result.ok ? "new side branch: ok" : result.problem, result.ok);
    return result.ok;
  }

  branch.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(checkBranch, 250);
  });
  checkBranch();

  function chosenInputs(exact) {
    const inputs = {};
    form.querySelectorAll("select[data-input]").forEach(function (select) {
      inputs[select.dataset.input] = exact ? select.dataset.original : select.value;
    });
    return inputs;
  }

  async function follow(run) {
    const answer = await fetch(run.status_url, { credentials: "same-origin" });
    const state = await answer.json();
    const tasks = Object.entries(state.tasks || {}).map(function (kv) {
      return kv[1] + " " + kv[0];
    });
    status.innerHTML = "";
    const link = document.createElement("a");
    link.href = run.run_url;
    link.target = "_top";
    link.textContent = run.run_id;
    status.append("Run ", link, ": ");
    const badge = document.createElement("span");
    badge.className = "state " + state.state;
    badge.id = "run-state";
    badge.textContent = state.state;
    status.append(badge, " (tasks: " + (tasks.join(", ") || "none yet") + ")");
    if (state.state === "success" && state.commit) {
      const diff = document.createElement("a");
      diff.id = "diff-link";
      diff.href = "/pachyderm/diff/" + encodeURIComponent(run.repo) + "?" +
        new URLSearchParams({ left: run.original, right: state.commit });
      diff.textContent = "new commit " + state.commit.slice(0, 12) + ": see its diff";
      status.append(" ", diff);
      window.location.href = diff.href;
      return;
    }
    if (state.state === "failed") return;
    setTimeout(function () { follow(run); }, 2000);
  }

  async function submit(exact) {
    if (!(await checkBranch()) && !window.confirm(hint.textContent + ". Run anyway?")) return;
    const body = {
      repo: repo,
      commit: form.dataset.commit,
      inputs: chosenInputs(exact),
      output_branch: branch.value,
      reprocess: form.elements.reprocess.value,
      datums: form.elements.datums.value,
    };
    document.getElementById("progress").hidden = false;
    status.textContent = "Triggering " + form.dataset.dag + "...";
    const answer = await fetch(api + "/rerun", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const result = await answer.json();
    if (!answer.ok) {
      status.textContent = "Refused: " + JSON.stringify(result.detail);
      return;
    }
    follow(result);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); submit(false); });
  document.getElementById("rerun-exact").addEventListener("click", function () { submit(true); });
})();
