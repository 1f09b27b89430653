// @bpmn-io/properties-panel's groups take a `translate` for their own buttons and marks
// (展开/收起, 此组已有设置), but bpmn-js-properties-panel does not hand one on, so they
// stayed English on a Chinese page. This provider runs after all others (the lowest
// priority) and gives every group the modeler's translate (translate.js).
const LAST = 1;

export default function GroupTranslateProvider(propertiesPanel, translate) {
  this.getGroups = () => (groups) => groups.map((group) => ({ translate, ...group }));
  propertiesPanel.registerProvider(LAST, this);
}

GroupTranslateProvider.$inject = ['propertiesPanel', 'translate'];
