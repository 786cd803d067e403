/* flightlog web UI: the experiments list. Create, rename, delete and restore experiments
 * through MLflow's REST API. */
"use strict";
(function () {
  const el = FL.el;
  const errorBox = document.getElementById("experiments-error");

  const form = document.getElementById("create-experiment");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const input = document.getElementById("new-experiment-name");
      const name = input.value.trim();
      if (!name) return;
      try {
        const created = await FL.api("POST", "/api/2.0/mlflow/experiments/create", { name });
        location.href = `/experiments/${encodeURIComponent(created.experiment_id)}`;
      } catch (e) {
        FL.showError(errorBox, e);
      }
    });
  }

  for (const row of document.querySelectorAll("#experiments-table tbody tr[data-experiment-id]")) {
    const id = row.dataset.experimentId;
    const nameCell = row.querySelector(".name-cell");
    for (const button of row.querySelectorAll("button[data-action]")) {
      button.addEventListener("click", async () => {
        const action = button.dataset.action;
        if (action === "rename") return startRename(row, nameCell, id);
        try {
          if (action === "delete") {
            if (!confirm(`Delete experiment "${row.dataset.name}" and hide its runs? It can be restored later.`)) return;
            await FL.api("POST", "/api/2.0/mlflow/experiments/delete", { experiment_id: id });
          } else if (action === "restore") {
            await FL.api("POST", "/api/2.0/mlflow/experiments/restore", { experiment_id: id });
          }
          location.reload();
        } catch (e) {
          FL.showError(errorBox, e);
        }
      });
    }
  }

  function startRename(row, cell, id) {
    if (cell.querySelector("form")) return;
    const original = Array.from(cell.childNodes);
    const input = el("input", { value: row.dataset.name, maxlength: 500, "aria-label": "New name", class: "rename-input" });
    const cancel = () => {
      FL.clear(cell);
      for (const n of original) cell.appendChild(n);
    };
    const editor = el("form", { class: "inline-form compact" }, input,
      el("button", { class: "btn small primary", type: "submit", text: "Save" }),
      el("button", { class: "btn small", type: "button", text: "Cancel", on: { click: cancel } }));
    editor.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (!name || name === row.dataset.name) return cancel();
      try {
        await FL.api("POST", "/api/2.0/mlflow/experiments/update", { experiment_id: id, new_name: name });
        location.reload();
      } catch (e) {
        FL.showError(errorBox, e);
      }
    });
    FL.clear(cell);
    cell.appendChild(editor);
    input.focus();
    input.select();
  }
})();
