// The DMN designer page: dmn-js opened on the decision table, validate and deploy.
// Same page contract as designer.js: data- attributes on #designer, no inline script.
import DmnModeler from 'dmn-js/lib/Modeler';
import { clearProblemList, fetchSource, guardUnsaved, listProblems, say, wireActions } from './common.js';
import translate from './dmn-translate.js';
import { styleWithinCsp } from './csp-styles.js';

styleWithinCsp(); // before dmn-js builds its logo or an editor (csp-styles.js)

const root = document.getElementById('designer');
const labels = JSON.parse(root.dataset.labels);
// Each view (decision table, requirements diagram, …) is its own diagram-js instance
// with its own modules: dmn-js drops `common.additionalModules`, so each gets it here.
const TranslateModule = { translate: ['value', translate] };
const views = ['drd', 'decisionTable', 'literalExpression', 'boxedExpression'];
const modeler = new DmnModeler({
  container: '#canvas',
  ...Object.fromEntries(views.map((view) => [view, { additionalModules: [TranslateModule] }]))
});
window.caseclockModeler = modeler; // for the browser tests and the console

let fileName = root.dataset.file;
let dirty = false;
guardUnsaved(() => dirty);

// A column by its label, else its expression or output name.
function columnName(column) {
  return column.label || column.inputExpression?.text || column.name || '';
}

// What an element of the table being edited is called: a decision by its name, a column
// by its label, a rule by its number ("规则 2"), a rule's cell by both ("规则 2 · 逾期天数").
function describe(id) {
  const decisions = (modeler.getDefinitions()?.drgElement || []);
  for (const decision of decisions) {
    if (decision.id === id) {
      return decision.name;
    }
    const table = decision.decisionLogic;
    if (!table || !table.rule) {
      continue;
    }
    const columns = [...(table.input || []), ...(table.output || [])];
    const column = columns.find((c) => c.id === id);
    if (column) {
      return columnName(column);
    }
    for (const [index, rule] of table.rule.entries()) {
      const rowName = `${labels.rule} ${index + 1}`;
      if (rule.id === id) {
        return rowName;
      }
      const entries = [...(rule.inputEntry || []), ...(rule.outputEntry || [])];
      const at = entries.findIndex((entry) => entry.id === id);
      if (at >= 0) {
        const name = columnName(columns[at] || {});
        return name ? `${rowName} · ${name}` : rowName;
      }
    }
  }
  return null;
}

// Problems name the rule's cell (inputEntry/outputEntry id) or the decision; the
// decision table renders each cell with data-element-id, so the cell is outlined.
function showProblems(problems) {
  document.querySelectorAll('.cc-problem').forEach((el) => el.classList.remove('cc-problem'));
  clearProblemList();
  listProblems(problems, labels, { describe, mark: (problem, item) => {
    const cells = document.querySelectorAll(`[data-element-id="${CSS.escape(problem.element_id)}"]`);
    cells.forEach((cell) => cell.classList.add('cc-problem'));
    if (cells.length) {
      item.classList.add('at-element');
    }
  } });
}

async function load() {
  const body = await fetchSource(root.dataset.source);
  fileName = body.file;
  await modeler.importXML(body.xml);
  const table = modeler.getViews().find((view) => view.type === 'decisionTable');
  if (table) {
    await modeler.open(table);
  }
  // Listen after the import: opening a view is not an edit.
  modeler.on('views.changed', () => {
    const viewer = modeler.getActiveViewer();
    viewer.get('eventBus').on('elements.changed', () => { dirty = true; });
  });
  modeler.getActiveViewer().get('eventBus').on('elements.changed', () => { dirty = true; });
  root.dataset.ready = 'true';
}

wireActions(root, labels, {
  save: async () => (await modeler.saveXML({ format: true })).xml,
  file: () => fileName,
  showProblems,
  deployed: () => { dirty = false; }
});

load().catch((error) => say(`${labels.failed}${labels.colon}${error.message}`, 'error'));
