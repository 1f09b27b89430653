// Our CSP (style-src 'self', on every page) allows no inline style; the designer's
// libraries bring two kinds, each applied here through CSSOM, which style-src does not
// govern, so the pages log no violation and the CSP stays as strict as everywhere else.
// CodeMirror's stylesheet mounter: a dependency of @codemirror/view (the FEEL editors),
// not one of ours, pinned by package-lock.json like the rest.
import { StyleModule } from 'style-mod';

// 1. bpmn.io's libraries build a few elements from HTML text (min-dom's domify, which
// parses into a fresh <div> with innerHTML) carrying style="" attributes: the properties
// panel's two containers, dmn-js's bpmn.io logo and its lightbox, the decision table's
// drag image. The CSP blocks each style attribute the HTML parser meets and the browser
// reports it as a violation in the console; so those declarations never applied and the
// reports buried any real problem.
//
// Only the declarations listed here, copied from those libraries, are taken out of such
// markup before it is parsed and set afterwards through CSSOM (element.style), which
// style-src does not govern. The list is fixed text in our bundle, never page data, so
// the CSP is not weakened: any other style="" still reaches the parser, is blocked and
// reported, and the designer's browser tests fail on it (a library update that adds one
// is seen, not silently dropped).
const KNOWN = new Set([
  // bpmn-js-properties-panel: BpmnPropertiesPanelRenderer's body and header containers
  'height: 100%',
  'flex: none; height: auto',
  // dmn-js-shared: the bpmn.io logo (PoweredByUtil), which its licence wants visible
  'position: absolute; bottom: 15px; right: 15px; z-index: 100;',
  'vertical-align:middle',
  // ... and the lightbox a click on the logo opens
  'z-index: 1001;position: fixed;top: 0;left: 0;right: 0;bottom: 0',
  'width: 100%;height: 100%;background: rgba(40,40,40,0.2)',
  'position: absolute;left: 50%;top: 40%;transform: translate(-50%);width: 260px;'
    + 'padding: 10px;background: white;box-shadow: 0 1px 4px rgba(0,0,0,0.3);'
    + 'font-family: Helvetica, Arial, sans-serif;font-size: 14px;display: flex;line-height: 1.3',
  'margin: 15px 20px 15px 10px; align-self: center;',
  // dmn-js-decision-table: the invisible drag image while a row or column is dragged
  'visibility: hidden; position: fixed; top: -10000px'
].map(normal));

const MARK = 'data-caseclock-style';
// A start tag with its attributes (quoted values may hold anything but their quote),
// and one attribute of it: matching attribute by attribute from the tag's start means
// a value that merely contains ` style="…"` is never mistaken for the attribute.
const TAG = /<[a-zA-Z][^\s/>]*(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*\/?>/g;
const ATTRIBUTE = /(\s+)([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function normal(declarations) {
  return declarations.replace(/\s+/g, ' ').trim();
}

// The markup with each known style="" replaced by a mark naming its entry in `found`.
function markKnownStyles(html, found) {
  return html.replace(TAG, (tag) => tag.replace(ATTRIBUTE, (attribute, space, name, ...values) => {
    const value = values.slice(0, 3).find((v) => v !== undefined);
    if (name.toLowerCase() !== 'style' || value === undefined || !KNOWN.has(normal(value))) {
      return attribute;
    }
    found.push(value);
    return `${space}${MARK}="${found.length - 1}"`;
  }));
}

// The rewrite on <div> innerHTML, where domify parses. Markup without "style" goes
// straight to the browser.
function applyKnownStylesThroughCssom() {
  const inner = Object.getOwnPropertyDescriptor(Element.prototype, 'innerHTML');
  Object.defineProperty(HTMLDivElement.prototype, 'innerHTML', {
    configurable: true,
    enumerable: inner.enumerable,
    get() {
      return inner.get.call(this);
    },
    set(html) {
      if (typeof html !== 'string' || !html.includes('style')) {
        inner.set.call(this, html);
        return;
      }
      const found = [];
      inner.set.call(this, markKnownStyles(html, found));
      this.querySelectorAll(`[${MARK}]`).forEach((element) => {
        element.style.cssText = found[Number(element.getAttribute(MARK))];
        element.removeAttribute(MARK);
      });
    }
  });
}

// 2. CodeMirror (dmn-js's input expression editor, the properties panel's FEEL fields)
// mounts its own stylesheet with style-mod, which writes a <style> element into a
// document's <head> (blocked: style-src-elem) and uses a constructed, adopted stylesheet
// only in a shadow root. It is handed the document as a root without `head`, so it takes
// the adopted-stylesheet way there too: the same rules, from our bundle, through CSSOM.
const DOCUMENT_ROOT = {
  ownerDocument: document,
  get adoptedStyleSheets() {
    return document.adoptedStyleSheets;
  },
  set adoptedStyleSheets(sheets) {
    document.adoptedStyleSheets = sheets;
  }
};

function mountEditorStylesThroughCssom() {
  const mount = StyleModule.mount;
  StyleModule.mount = (root, modules, options) => (
    mount.call(StyleModule, root === document ? DOCUMENT_ROOT : root, modules, options)
  );
}

// Call once, before a modeler is created.
export function styleWithinCsp() {
  applyKnownStylesThroughCssom();
  if (document.adoptedStyleSheets) { // else (an old browser) as before: blocked, reported
    mountEditorStylesThroughCssom();
  }
}
