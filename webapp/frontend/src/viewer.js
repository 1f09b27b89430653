// The case page's diagram: the instance's own deployed version in the bpmn-js viewer,
// with its open tasks (deadline and traffic light), completed activities and waiting
// timers marked. Loaded as a file (the CSP allows no inline script); everything shown,
// the texts in the page's language included, comes from the JSON at data-source.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

const root = document.getElementById('case-diagram');
const status = document.getElementById('case-diagram-status');

// An overlay box: one line per text, and data- attributes saying what it belongs to.
function box(className, lines, data) {
  const element = document.createElement('div');
  element.className = className;
  lines.filter(Boolean).forEach((text) => {
    const line = document.createElement('div');
    line.textContent = text;
    element.append(line);
  });
  Object.assign(element.dataset, data);
  return element;
}

async function load(url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.message || response.status);
  }
  return body;
}

async function show() {
  const body = await load(root.dataset.source);
  const viewer = new NavigatedViewer({ container: root });
  window.caseclockViewer = viewer; // for the browser tests and the console
  await viewer.importXML(body.xml);
  const canvas = viewer.get('canvas');
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  const shown = (id) => Boolean(registry.get(id));

  body.completed.filter(shown).forEach((id) => canvas.addMarker(id, 'cc-done'));
  // Above the task: below it are its boundary events and their timers' overlays.
  body.open.filter((task) => shown(task.element_id)).forEach((task) => {
    canvas.addMarker(task.element_id, 'cc-open');
    canvas.addMarker(task.element_id, `cc-light-${task.light}`);
    overlays.add(task.element_id, 'caseclock-due', {
      position: { top: -38, left: -6 },
      html: box(`cc-due cc-light-${task.light}`, [task.state_text, task.due_text],
        { task: task.task_id, element: task.element_id, light: task.light })
    });
  });
  // Below the event and its label; a task's boundary timers sit side by side, so their
  // overlays are stacked instead of drawn over each other.
  const stacked = {};
  body.timers.filter((timer) => shown(timer.element_id)).forEach((timer) => {
    const owner = timer.attached_to || timer.element_id;
    const level = stacked[owner] || 0;
    stacked[owner] = level + 1;
    overlays.add(timer.element_id, 'caseclock-timer', {
      position: { bottom: -22 - 20 * level, left: -20 },
      html: box('cc-timer', [timer.text], { timer: timer.timer_id, element: timer.element_id })
    });
  });
  canvas.zoom('fit-viewport');
  root.dataset.state = 'ready';
}

show().catch((error) => {
  status.textContent = `${root.dataset.failed}${root.dataset.colon}${error.message}`;
  root.dataset.state = 'failed';
});
