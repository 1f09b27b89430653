// bpmn-js and its properties panel speak English; on a Chinese page (the default) their
// most visible words — the panel's groups and fields, the palette and the context pad —
// are shown in Chinese. A text without an entry stays English. dmn-js takes the same
// kind of `translate` (dmn-translate.js), built by `translator` from its own table.

// Words diagram-js itself shows, in the BPMN modeler and in the DMN requirements diagram.
export const DIAGRAM_ZH = {
  'Activate hand tool': '抓手工具',
  'Activate lasso tool': '套索工具',
  'Add text annotation': '添加文本注释',
  'Connect to other element': '连接到其他元素',
  'Search in diagram': '在图中搜索',
  Delete: '删除'
};

// Event names come in many combinations and two spellings, the properties panel's header
// ('Timer Boundary Event (Non Interrupting)') and the "change element" menu's ('Timer
// boundary event (non-interrupting)'): all are built from these parts.
const EVENT_KINDS = {
  '': '',
  Message: '消息',
  Timer: '定时',
  Conditional: '条件',
  Signal: '信号',
  Error: '错误',
  Escalation: '升级',
  Compensation: '补偿',
  Link: '链接',
  Cancel: '取消',
  Terminate: '终止',
  Multiple: '多重',
  'Parallel Multiple': '并行多重'
};
const EVENT_TYPES = {
  'Start Event': '开始事件',
  'End Event': '结束事件',
  'Intermediate Catch Event': '中间捕获事件',
  'Intermediate Throw Event': '中间抛出事件',
  'Boundary Event': '边界事件'
};

function eventNames() {
  const names = {};
  for (const [type, typeZh] of Object.entries(EVENT_TYPES)) {
    for (const [kind, kindZh] of Object.entries(EVENT_KINDS)) {
      const header = `${kind} ${type}`.trim();
      const menu = header[0] + header.slice(1).toLowerCase();
      const zh = kindZh + typeZh;
      Object.assign(names, {
        [header]: zh,
        [`${header} (Non Interrupting)`]: `${zh}（非中断）`,
        [menu]: zh,
        [`${menu} (non-interrupting)`]: `${zh}（非中断）`
      });
    }
  }
  return names;
}

const ZH = {
  ...DIAGRAM_ZH,
  ...eventNames(),
  // properties panel: groups
  General: '常规',
  Documentation: '文档',
  Timer: '定时器',
  Message: '消息',
  Signal: '信号',
  Error: '错误',
  Escalation: '升级',
  Link: '链接',
  Compensation: '补偿',
  Completion: '完成',
  Condition: '条件',
  Inputs: '输入',
  Outputs: '输出',
  Forms: '表单',
  'Form fields': '表单字段',
  'User assignment': '办理人分配',
  'Execution listeners': '执行监听器',
  'Task listeners': '任务监听器',
  'Extension properties': '扩展属性',
  'Field injections': '字段注入',
  'Job execution': '作业执行',
  'Multi-instance': '多实例',
  Tasklist: '任务列表',
  'History cleanup': '历史清理',
  'Start initiator': '发起人',
  Implementation: '实现',
  // properties panel: the panel itself
  'Select an element to edit its properties.': '选择一个元素以编辑其属性。',
  'Multiple elements are selected. Select a single element to edit its properties.':
    '已选中多个元素。只选择一个元素才能编辑其属性。',
  'Toggle section': '展开/收起',
  'Section contains edits': '此组已有设置',
  'Section contains an error': '此组有错误',
  'Open pop-up editor': '在弹出窗口中编辑',
  'Opened in editor': '已在弹出窗口中打开',
  'Open documentation': '打开文档',
  'Toggle list item': '展开/收起',
  'Create new list item': '新建一项',
  'Delete item': '删除此项',
  Create: '新建',
  '<empty>': '<空>',
  // properties panel: the selected element's type (its header)
  Collaboration: '协作',
  Process: '流程',
  Task: '任务',
  'User Task': '用户任务',
  'Script Task': '脚本任务',
  'Service Task': '服务任务',
  'Send Task': '发送任务',
  'Receive Task': '接收任务',
  'Manual Task': '手工任务',
  'Business Rule Task': '业务规则任务',
  'Sub Process': '子流程',
  'Expanded Sub Process': '子流程（展开）',
  'Collapsed Sub Process': '子流程（折叠）',
  'Expanded Ad Hoc Sub Process': '特别子流程（展开）',
  'Collapsed Ad Hoc Sub Process': '特别子流程（折叠）',
  'Event Sub Process': '事件子流程',
  Transaction: '事务',
  'Call Activity': '调用活动',
  'Exclusive Gateway': '排他网关',
  'Parallel Gateway': '并行网关',
  'Inclusive Gateway': '包容网关',
  'Complex Gateway': '复杂网关',
  'Event Based Gateway': '事件网关',
  'Sequence Flow': '顺序流',
  'Conditional Flow': '条件流',
  'Default Flow': '默认流',
  'Message Flow': '消息流',
  Association: '关联',
  'Data Object Reference': '数据对象引用',
  'Data Store Reference': '数据存储引用',
  Participant: '参与者',
  Lane: '泳道',
  Group: '分组',
  'Text Annotation': '文本注释',
  // properties panel: fields
  Name: '名称',
  ID: '标识',
  'Version tag': '版本标签',
  Executable: '可执行',
  'Participant Name': '参与者名称',
  'Process name': '流程名称',
  'Process ID': '流程标识',
  'Element documentation': '元素说明',
  'Process documentation': '流程说明',
  'ID must not be empty.': '标识不能为空。',
  'ID must be unique.': '标识必须唯一。',
  'ID must not contain spaces.': '标识不能包含空格。',
  'ID must not contain prefix.': '标识不能带前缀。',
  'ID must be a valid QName.': '标识必须是有效的 QName。',
  Assignee: '办理人',
  'Candidate groups': '候选组',
  'Candidate users': '候选人',
  'Due date': '到期日',
  'Follow up date': '跟进日',
  Priority: '优先级',
  Type: '类型',
  Value: '值',
  Date: '日期',
  Duration: '时长',
  Cycle: '循环',
  Script: '脚本',
  Expression: '表达式',
  Code: '代码',
  '<none>': '<无>',
  'Create new ...': '新建…',
  'Global message reference': '全局消息引用',
  'Global signal reference': '全局信号引用',
  'Global error reference': '全局错误引用',
  'Global escalation reference': '全局升级引用',
  'Activity reference': '活动引用',
  'Wait for completion': '等待完成',
  'Loop cardinality': '循环次数',
  'Completion condition': '完成条件',
  'Cancel remaining instances': '取消其余实例',
  // properties panel: the timer's help (CaseClock also reads "3 working days", see the docs)
  'Documentation: Timer events': '文档：定时事件',
  'A specific point in time defined as ISO 8601 combined date and time representation.':
    '用 ISO 8601 日期时间表示的时间点。',
  'A time duration defined as ISO 8601 durations format.': '用 ISO 8601 时长格式表示的时长。',
  'A cycle defined as ISO 8601 repeating intervals format.': '用 ISO 8601 重复间隔格式表示的周期。',
  'UTC time': 'UTC 时间',
  'UTC plus 2 hours zone offset': 'UTC+2 时区',
  '15 seconds': '15 秒',
  '1 hour and 30 minutes': '1 小时 30 分钟',
  '14 days': '14 天',
  'every 10 seconds, up to 5 times': '每 10 秒一次，最多 5 次',
  'every day, infinitely': '每天一次，不限次数',
  // palette
  'Activate create/remove space tool': '插入/删除空间工具',
  'Activate global connect tool': '连线工具',
  'Create start event': '创建开始事件',
  'Create intermediate/boundary event': '创建中间/边界事件',
  'Create end event': '创建结束事件',
  'Create gateway': '创建网关',
  'Create task': '创建任务',
  'Create expanded sub-process': '创建展开的子流程',
  'Create data object reference': '创建数据对象引用',
  'Create data store reference': '创建数据存储引用',
  'Create pool/participant': '创建池/参与者',
  'Create group': '创建分组',
  // context pad
  'Append task': '追加任务',
  'Append end event': '追加结束事件',
  'Append gateway': '追加网关',
  'Append intermediate/boundary event': '追加中间/边界事件',
  'Append text annotation': '追加文本注释',
  'Append receive task': '追加接收任务',
  'Append message intermediate catch event': '追加消息中间捕获事件',
  'Append timer intermediate catch event': '追加定时中间捕获事件',
  'Append conditional intermediate catch event': '追加条件中间捕获事件',
  'Append signal intermediate catch event': '追加信号中间捕获事件',
  'Append compensation activity': '追加补偿活动',
  'Change element': '更改元素类型',
  'Connect using association': '用关联连接',
  'Connect using data input association': '用数据输入关联连接',
  'Add lane above': '在上方添加泳道',
  'Add lane below': '在下方添加泳道',
  'Divide into two lanes': '分成两条泳道',
  'Divide into three lanes': '分成三条泳道',
  'Open {element}': '打开 {element}',
  'Align elements': '对齐',
  'Align elements left': '左对齐',
  'Align elements center': '水平居中对齐',
  'Align elements right': '右对齐',
  'Align elements top': '顶端对齐',
  'Align elements middle': '垂直居中对齐',
  'Align elements bottom': '底端对齐',
  'Distribute elements horizontally': '水平均匀分布',
  'Distribute elements vertically': '垂直均匀分布',
  // "change element" menu (events are above)
  'User task': '用户任务',
  'Service task': '服务任务',
  'Send task': '发送任务',
  'Receive task': '接收任务',
  'Manual task': '手工任务',
  'Business rule task': '业务规则任务',
  'Script task': '脚本任务',
  'Call activity': '调用活动',
  'Event sub-process': '事件子流程',
  'Sub-process': '子流程',
  'Sub-process (collapsed)': '子流程（折叠）',
  'Sub-process (expanded)': '子流程（展开）',
  'Ad-hoc sub-process': '特别子流程',
  'Ad-hoc sub-process (collapsed)': '特别子流程（折叠）',
  'Ad-hoc sub-process (expanded)': '特别子流程（展开）',
  'Exclusive gateway': '排他网关',
  'Parallel gateway': '并行网关',
  'Inclusive gateway': '包容网关',
  'Complex gateway': '复杂网关',
  'Event-based gateway': '事件网关',
  'Data store reference': '数据存储引用',
  'Data object reference': '数据对象引用',
  'Expanded pool/participant': '展开的池/参与者',
  'Empty pool/participant': '空的池/参与者',
  'Sequence flow': '顺序流',
  'Default flow': '默认流',
  'Conditional flow': '条件流',
  Loop: '循环',
  'Parallel multi-instance': '并行多实例',
  'Sequential multi-instance': '串行多实例',
  'Toggle non-interrupting': '切换中断/非中断',
  Collection: '集合',
  'Participant multiplicity': '参与者多重性'
};

// A diagram-js `translate` over `table`, in the page's language (<html lang>): the
// template's translation if the page is Chinese and the table has one, else the template;
// then {placeholders}. Placeholders are matched without surrounding spaces, because some
// dmn-js templates write `{ sample }` for the replacement `sample`.
export function translator(table) {
  return function translate(template, replacements = {}) {
    const zh = document.documentElement.lang.startsWith('zh');
    const text = (zh && table[template]) || template;
    return text.replace(/{([^}]+)}/g, (whole, key) => {
      const name = key.trim();
      return name in replacements ? replacements[name] : whole;
    });
  };
}

export default translator(ZH);
