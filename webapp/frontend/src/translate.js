// bpmn-js and its properties panel speak English; on a Chinese page (the default) their
// most visible words — the panel's groups and fields, the palette and the context pad —
// are shown in Chinese. A text without an entry stays English.
const ZH = {
  // properties panel: groups
  General: '常规',
  Documentation: '文档',
  Timer: '定时器',
  Message: '消息',
  Signal: '信号',
  Error: '错误',
  Escalation: '升级',
  Link: '链接',
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
  // properties panel: fields
  Name: '名称',
  ID: '标识',
  'Version tag': '版本标签',
  Executable: '可执行',
  'Element documentation': '元素说明',
  'Process documentation': '流程说明',
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
  '<none>': '<无>',
  // palette
  'Activate hand tool': '抓手工具',
  'Activate lasso tool': '套索工具',
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
  'Add text annotation': '添加文本注释',
  'Change element': '更改元素类型',
  'Connect to other element': '连接到其他元素',
  'Connect using association': '用关联连接',
  Delete: '删除'
};

export default function translate(template, replacements = {}) {
  const zh = document.documentElement.lang.startsWith('zh');
  const text = (zh && ZH[template]) || template;
  return text.replace(/{([^}]+)}/g, (whole, key) => (key in replacements ? replacements[key] : whole));
}
