// The BPMN designer page: bpmn-js modeler + properties panel with the SLA group.
// Loaded as an external file (the CSP allows no inline script); everything the page
// needs (URLs, translated labels) comes from data- attributes on #designer.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import caseclockModdle from './caseclock.json';
import SlaPropertiesProvider from './sla-provider.js';
import GroupTranslateProvider from './panel-translate.js';
import translate from './translate.js';
import { styleWithinCsp } from './csp-styles.js';
import { clearProblemList, fetchSource, guardUnsaved, listProblems, say, wireActions } from './common.js';

const SlaModule = {
  __init__: ['caseclockSlaProvider', 'caseclockGroupTranslate'],
  caseclockSlaProvider: ['type', SlaPropertiesProvider],
  caseclockGroupTranslate: ['type', GroupTranslateProvider]
};
const TranslateModule = { translate: ['value', translate] };

styleWithinCsp(); // before the properties panel builds its containers (csp-styles.js)

const root = document.getElementById('designer');
const labels = JSON.parse(root.dataset.labels);

const modeler = new BpmnModeler({
  container: '#canvas',
  propertiesPanel: { parent: '#properties' },
  additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, SlaModule, TranslateModule],
  // camunda: keeps forms/assignees typed; caseclock: the SLA attributes the engine reads.
  moddleExtensions: { camunda: camundaModdle, caseclock: caseclockModdle },
  caseclockLabels: labels
});
window.caseclockModeler = modeler; // for the browser tests and the console

let fileName = root.dataset.file;
let marked = [];
let dirty = false;
modeler.on('commandStack.changed', (event) => {
  dirty = dirty || event.trigger !== 'clear'; // importing clears the stack: not an edit
});
guardUnsaved(() => dirty);

function clearMarks() {
  const canvas = modeler.get('canvas');
  modeler.get('overlays').remove({ type: 'caseclock-problem' });
  marked.forEach((id) => canvas.removeMarker(id, 'cc-problem'));
  marked = [];
  clearProblemList();
}

// A problem that names a diagram element gets a red outline and a badge on it, and
// clicking its list entry selects it.
function showProblems(problems) {
  clearMarks();
  const registry = modeler.get('elementRegistry');
  const describe = (id) => registry.get(id)?.businessObject?.name;
  listProblems(problems, labels, { describe, mark: (problem, item) => {
    const element = registry.get(problem.element_id);
    if (!element) {
      return;
    }
    modeler.get('canvas').addMarker(element, 'cc-problem');
    marked.push(element.id);
    const badge = document.createElement('div');
    badge.className = 'cc-problem-badge';
    badge.textContent = '!';
    badge.title = problem.message;
    modeler.get('overlays').add(element, 'caseclock-problem', {
      position: { top: -10, right: 10 }, html: badge
    });
    item.classList.add('at-element');
    item.addEventListener('click', () => modeler.get('selection').select(element));
  } });
}


async function load() {
  const body = await fetchSource(root.dataset.source);
  fileName = body.file;
  await modeler.importXML(body.xml);
  const canvas = modeler.get('canvas');
  canvas.zoom('fit-viewport');
  // Widen the view on the left so the palette does not cover the first elements.
  const box = canvas.viewbox();
  const room = 130 / box.scale;
  const grow = (box.width + room) / box.width; // keep the aspect ratio: zoom out a little
  canvas.viewbox({ x: box.x - room, y: box.y, width: box.width * grow, height: box.height * grow });
  dirty = false;
  root.dataset.ready = 'true';
}

wireActions(root, labels, {
  save: async () => (await modeler.saveXML({ format: true })).xml,
  file: () => fileName,
  showProblems,
  deployed: (body) => {
    document.getElementById('designer-version').textContent = body.version_label || '';
    dirty = false;
  }
});

load().catch((error) => say(`${labels.failed}${labels.colon}${error.message}`, 'error'));
