/* flightlog web UI: the compare page's Evaluation section, the evaluation and drift metrics
 * of the compared runs side by side (MLflow Evaluate's default names and flightlog's drift
 * summary), with each row's best value marked. */
"use strict";
(function () {
  const el = FL.el;
  const runs = FL.initialData().runs || [];
  const HIGHER = ["accuracy_score", "f1_score", "f1_score_micro", "f1_score_macro", "precision_score", "recall_score",
    "roc_auc", "precision_recall_auc", "r2_score", "score", "true_positives", "true_negatives"];
  const LOWER = ["log_loss", "mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "max_error",
    "mean_absolute_percentage_error", "false_positives", "false_negatives",
    "drift/share_of_drifted_columns", "drift/number_of_drifted_columns", "drift/dataset_drifted"];
  const NEUTRAL = ["example_count", "sum_on_target", "mean_on_target"];
  const names = [...HIGHER, ...LOWER, ...NEUTRAL].filter((k) => runs.some((r) => k in r.metrics));
  const section = document.getElementById("evaluation-compare");
  if (!section || !names.length) return;
  section.hidden = false;
  const rows = names.sort().map((key) => {
    const values = runs.map((r) => r.metrics[key]);
    const present = values.filter((v) => typeof v === "number");
    const best = HIGHER.includes(key) ? Math.max(...present) : LOWER.includes(key) ? Math.min(...present) : null;
    return el("tr", { data: { key } }, el("td", { text: key }),
      values.map((v) => el("td", { class: "num" + (best !== null && v === best && present.length > 1 ? " best" : ""),
        style: best !== null && v === best && present.length > 1 ? { fontWeight: "700" } : null,
        text: v === undefined ? "—" : FL.formatValue(v) })));
  });
  section.querySelector("#evaluation-compare-table").append(
    el("thead", {}, el("tr", {}, el("th", { text: "Metric" }), runs.map((r) => el("th", { class: "num", text: r.name || r.id })))),
    el("tbody", {}, rows));
})();
