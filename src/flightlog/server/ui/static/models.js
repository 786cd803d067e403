/* flightlog web UI: a registered model's page. Aliases (set, move, remove) and descriptions
 * of the model and its versions, through MLflow's REST API. */
"use strict";
(function () {
  const data = FL.initialData();
  const el = FL.el;
  const name = data.name;
  const errorBox = document.getElementById("model-error");
  const API = "/api/2.0/mlflow";

  async function act(fn) {
    try {
      await fn();
      location.reload();
    } catch (e) {
      FL.showError(errorBox, e);
    }
  }

  // description of the model
  const descriptionNode = document.getElementById("model-description");
  const descriptionForm = document.getElementById("description-form");
  const descriptionInput = document.getElementById("description-input");
  document.getElementById("edit-description").addEventListener("click", () => {
    descriptionInput.value = data.description;
    descriptionForm.hidden = false;
    descriptionNode.hidden = true;
    descriptionInput.focus();
  });
  document.getElementById("cancel-description").addEventListener("click", () => {
    descriptionForm.hidden = true;
    descriptionNode.hidden = false;
  });
  descriptionForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(() => FL.api("PATCH", `${API}/registered-models/update`, { name, description: descriptionInput.value }));
  });

  // aliases
  document.getElementById("alias-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const alias = document.getElementById("alias-name").value.trim();
    const version = document.getElementById("alias-version").value;
    if (!alias || !version) return;
    act(() => FL.api("POST", `${API}/registered-models/alias`, { name, alias, version }));
  });
  for (const row of document.querySelectorAll("#aliases-table tr[data-alias]")) {
    row.querySelector('[data-action="remove-alias"]').addEventListener("click", () => {
      act(() => FL.api("DELETE", `${API}/registered-models/alias`, { name, alias: row.dataset.alias }));
    });
  }

  // version descriptions
  for (const row of document.querySelectorAll("#versions-table tr[data-version]")) {
    const button = row.querySelector('[data-action="edit-version-description"]');
    button.addEventListener("click", () => {
      const cell = row.querySelector(".version-description");
      const version = row.dataset.version;
      const current = (data.versions.find((v) => v.version === version) || {}).description || "";
      const input = el("textarea", { rows: 2, maxlength: 5000, class: "version-description-input" });
      input.value = current;
      const form = el("form", { class: "inline-form compact" }, input,
        el("button", { type: "submit", class: "btn small primary", text: "Save" }));
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        act(() => FL.api("PATCH", `${API}/model-versions/update`, { name, version, description: input.value }));
      });
      FL.clear(cell);
      cell.appendChild(form);
      input.focus();
    });
  }
})();
