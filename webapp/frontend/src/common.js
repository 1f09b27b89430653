// What the BPMN and the DMN designer pages share: the status line, the problem list
// and the JSON calls to /designer/validate and /designer/deploy (CSRF token in the
// X-CSRFToken header, which Flask-WTF checks like the form field).
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const statusLine = document.getElementById('designer-status');
const problemList = document.getElementById('designer-problems');

export function say(text, kind) {
  statusLine.textContent = text;
  statusLine.className = `flash ${kind}`;
  statusLine.dataset.state = kind;
}

// Where a problem is: the element's name in the diagram being edited (`describe(id)`,
// which may have changed since the deploy) with its id, "审核 (Task_review)"; an element
// without a name, or one the diagram no longer has, by its id.
export function whereIs(id, describe) {
  const name = (describe(id) || '').trim();
  return name && name !== id ? `${name} (${id})` : id;
}

// Lists every problem, each after the element it names (`whereIs`) and the page's colon
// (`labels.colon`: full-width in Chinese); `mark(problem, item)` marks the element (if
// shown) and may make the list entry clickable.
export function listProblems(problems, labels, { mark, describe }) {
  problemList.replaceChildren();
  problems.forEach((problem) => {
    const item = document.createElement('li');
    item.textContent = problem.element_id
      ? `${whereIs(problem.element_id, describe)}${labels.colon}${problem.message}`
      : problem.message;
    item.dataset.element = problem.element_id || '';
    if (problem.element_id) {
      mark(problem, item);
    }
    problemList.append(item);
  });
}

export function clearProblemList() {
  problemList.replaceChildren();
}

async function post(url, xml, file) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken },
    body: JSON.stringify({ xml, file }),
    credentials: 'same-origin'
  });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  return { response, body };
}

// Posts the diagram; returns the answer's body when it was accepted, else null (the
// problems are shown through `showProblems`, any other failure on the status line).
export async function submit(url, xml, file, labels, showProblems) {
  say(labels.working, 'info');
  try {
    const { response, body } = await post(url, xml, file);
    if (!body) {
      say(`${labels.failed}${labels.colon}HTTP ${response.status}`, 'error');
      return null;
    }
    if (body.problems && body.problems.length) {
      showProblems(body.problems);
      say(body.message, 'error');
      return null;
    }
    showProblems([]);
    say(body.message, response.ok ? 'info' : 'error');
    return response.ok ? body : null;
  } catch (error) {
    say(`${labels.failed}${labels.colon}${error.message}`, 'error');
    return null;
  }
}

export async function fetchSource(url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.message || response.status);
  }
  return body;
}

// Edits not yet deployed: the browser asks before the page is left.
export function guardUnsaved(isDirty) {
  window.addEventListener('beforeunload', (event) => {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
}

// The page's validate and deploy buttons: each posts what `save()` gives (the diagram's
// XML) under the file name `file()`; `deployed(body)` runs once a deploy is accepted.
export function wireActions(root, labels, { save, file, showProblems, deployed }) {
  const run = async (url, action) => {
    const body = await submit(url, await save(), file(), labels, showProblems);
    if (body && action === 'deploy') {
      deployed(body);
    }
  };
  document.getElementById('designer-validate')
    .addEventListener('click', () => run(root.dataset.validate, 'validate'));
  document.getElementById('designer-deploy')
    .addEventListener('click', () => run(root.dataset.deploy, 'deploy'));
}
