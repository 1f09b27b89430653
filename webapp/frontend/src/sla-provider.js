// A properties-panel group "时限 SLA" for CaseClock's SLA attributes (docs/designers.md):
// limit, warnings, onDeadline, calendar on user tasks, subprocesses and call activities.
// Written with `h` rather than JSX so the bundler needs no JSX configuration.
import { h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextFieldEntryEdited
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is, isAny } from 'bpmn-js/lib/util/ModelUtil';

// After the built-in groups, so "时限 SLA" comes below General.
const PRIORITY = 500;
const TYPES = ['bpmn:UserTask', 'bpmn:SubProcess', 'bpmn:CallActivity'];

function hasSla(element) {
  const bo = element.businessObject;
  // An event subprocess is started by its event; the engine ignores an SLA on it.
  return isAny(bo, TYPES) && !(is(bo, 'bpmn:SubProcess') && bo.triggeredByEvent);
}

function setter(element, modeling, name) {
  // An empty field removes the attribute instead of writing caseclock:x="".
  return (value) => modeling.updateProperties(element, {
    [`caseclock:${name}`]: value && value.trim() ? value.trim() : undefined
  });
}

function textEntry(name, labels) {
  return function CaseClockText(props) {
    const { element, id } = props;
    const modeling = useService('modeling');
    const debounce = useService('debounceInput');
    return h(TextFieldEntry, {
      element,
      id,
      label: labels[name],
      description: labels[`${name}Hint`],
      debounce,
      getValue: () => element.businessObject.get(`caseclock:${name}`) || '',
      setValue: setter(element, modeling, name)
    });
  };
}

function deadlineEntry(labels) {
  return function CaseClockOnDeadline(props) {
    const { element, id } = props;
    const modeling = useService('modeling');
    return h(SelectEntry, {
      element,
      id,
      label: labels.onDeadline,
      getValue: () => element.businessObject.get('caseclock:onDeadline') || '',
      setValue: setter(element, modeling, 'onDeadline'),
      getOptions: () => [
        { value: '', label: labels.notifyDefault },
        { value: 'notify', label: labels.notify },
        { value: 'chase', label: labels.chase }
      ]
    });
  };
}

export function slaGroup(element, labels) {
  const entry = (name, component, isEdited) => ({
    id: `caseclock-${name}`, element, component, isEdited
  });
  return {
    id: 'caseclock-sla',
    label: labels.group,
    entries: [
      entry('limit', textEntry('limit', labels), isTextFieldEntryEdited),
      entry('warnings', textEntry('warnings', labels), isTextFieldEntryEdited),
      entry('onDeadline', deadlineEntry(labels), isSelectEntryEdited),
      entry('calendar', textEntry('calendar', labels), isTextFieldEntryEdited)
    ]
  };
}

export default function SlaPropertiesProvider(propertiesPanel, labels) {
  this.getGroups = (element) => (groups) => {
    if (hasSla(element)) {
      groups.push(slaGroup(element, labels));
    }
    return groups;
  };
  propertiesPanel.registerProvider(PRIORITY, this);
}

SlaPropertiesProvider.$inject = ['propertiesPanel', 'config.caseclockLabels'];
