"""The engine's messages in the page's language.

The engine speaks English: the command line, the JSON API and the logs show its messages
as they are, and machine clients may match on them. Pages show the ones people meet
there in the page's language through this catalogue: each English pattern with its
Chinese wording, the named parts carried over. A message with no entry is shown as it
is (English beats a wrong guess); ``tests/web/test_engine_text.py`` runs the page flows
in Chinese and checks that what they show has an entry.

The engine names people by their keys ("claimed by chen"); a page, in either language,
names them as people see them (陈窗口): see :data:`PERSON_GROUPS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from engine.calendar import CalendarError, parse_duration

from .i18n import current_locale
from .names import page_person_names

_ID = r"(?P<id>\d+)"
_WHO = r"(?P<who>[\w.\-]+)"
_Q = r"""(?:'[^']*'|"[^"]*")"""  # a value the engine quotes with repr()
# Named groups that hold a person's key, bare or quoted: a page shows the person's name
# there (a key that names nobody, an unknown user's, stays as written). The command line
# and the API show the engine's own wording, keys and all.
PERSON_GROUPS = frozenset({"who", "user", "other"})

# (pattern, Chinese). A pattern matches the whole message; {name} takes its named group.
# A group named ``inner`` is a whole message of its own that the engine composed into
# this one (``SLA standard: <a duration's problem>``): it is worded through the catalogue
# too, and without an entry of its own the message has none either.
ENTRIES: list[tuple[str, str]] = [
    # forms (engine.forms), one field's problem
    (r"is required", "必填。"),
    (r"must be a whole number", "应为整数。"),
    (r"(?P<raw>.+) is not a whole number", "{raw} 不是整数。"),
    (r"(?P<raw>.+) is not true or false", "{raw} 不是“是”或“否”。"),
    # a report or ledger filter's date (engine.accountability) names its command-line flag:
    # a page has fields, not flags, so it is worded here before the form field's entry
    (
        rf"--(?P<bound>from|to) (?P<raw>{_Q}) is not a date \(YYYY-MM-DD\)",
        "{bound} {raw} 不是日期（YYYY-MM-DD）。",
    ),
    (r"(?P<raw>.+) is not a date \(YYYY-MM-DD\)", "{raw} 不是日期（YYYY-MM-DD）。"),
    (r"(?P<raw>.+) is not one of (?P<options>.+)", "{raw} 不在可选项内：{options}。"),
    (r"must be text", "应为文字。"),
    (r"must be at least (?P<n>\d+) characters", "至少 {n} 个字符。"),
    (r"must be at most (?P<n>\d+) characters", "最多 {n} 个字符。"),
    (r"must be at least (?P<n>[-\d.]+)", "不能小于 {n}。"),
    (r"must be at most (?P<n>[-\d.]+)", "不能大于 {n}。"),
    (r"unknown field; this task accepts: (?P<fields>.+)", "未知字段；本任务接受：{fields}。"),
    (
        r"(?P<raw>.+) is not an e-mail address: write name@domain\.tld",
        "{raw} 不是电子邮件地址：请写成 name@domain.tld。",
    ),
    (
        r"(?P<raw>.+) is not a phone number: (?P<low>\d+) to (?P<high>\d+) digits, with an "
        r"optional leading \+ and spaces, dashes or parentheses",
        "{raw} 不是电话号码：应为 {low} 到 {high} 位数字，可带开头的 +、空格、连字符或括号。",
    ),
    # tasks (engine.runtime)
    (rf"no task {_ID}", "没有任务 {id}。"),
    (rf"no process instance {_ID}", "没有案件 {id}。"),
    (rf"task {_ID} is already (?P<state>\w+)", "任务 {id} 已{state}。"),
    (rf"task {_ID} is already claimed by {_WHO}", "任务 {id} 已被 {who} 认领。"),
    (
        rf"{_WHO} is not in a candidate group of task {_ID} \((?P<groups>.*)\)",
        "{who} 不在任务 {id} 的候选组（{groups}）中。",
    ),
    (rf"task {_ID} is not claimed", "任务 {id} 尚未认领。"),
    (rf"task {_ID} is not claimed; claim it before completing", "任务 {id} 尚未认领，请先认领。"),
    (
        rf"task {_ID} is claimed by {_WHO}, not (?P<user>[\w.\-]+)",
        "任务 {id} 由 {who} 认领，不是 {user}。",
    ),
    (rf"task {_ID} is delegated; resolve it instead", "任务 {id} 已委派，请交回。"),
    (
        rf"task {_ID} is delegated; the delegate resolves it instead",
        "任务 {id} 已委派，由受托人交回。",
    ),
    (rf"only the assignee of task {_ID} can delegate it", "只有任务 {id} 的办理人可以委派。"),
    (rf"task {_ID} is not delegated to {_WHO}", "任务 {id} 没有委派给 {who}。"),
    (
        rf"task {_ID} is yours already: delegate it to someone else",
        "任务 {id} 已由您办理：请委派给其他人。",
    ),
    (
        rf"task {_ID} is assigned to {_WHO}; only they complete it",
        "任务 {id} 由 {who} 办理，只有其本人可以办结。",
    ),
    (rf"task {_ID} no longer exists in its workflow", "任务 {id} 已不在流程中。"),
    (rf"task {_ID} is not a 协办 request", "任务 {id} 不是协办请求。"),
    (
        rf"task {_ID} is already offered to (?P<group>{_Q}): ask another group for 协办",
        "任务 {id} 已在组 {group} 中办理：请向其他组请求协办。",
    ),
    (
        r"(?P<what>[\w.]+) is not a JSON number \(NaN and infinities are not\)",
        "{what} 不是 JSON 数字（不能是 NaN 或无穷大）。",
    ),
    (
        rf"task {_ID} is a chase task: handle or urge it \(caseclock chase\)",
        "任务 {id} 是催办任务：请在“督办”页面催办或标记已处理。",
    ),
    (
        rf"task {_ID} is a 协办 request: answer it \(caseclock assist answer\)",
        "任务 {id} 是协办请求：请直接答复。",
    ),
    # a command that lost a race or met a locked database (engine.executor); the page
    # user knows what they just did, so the command's name is left out
    (
        r"\w+: a concurrent change won; try again",
        "有人同时修改了同一内容，本次操作未保存，请重试。",
    ),
    (r"\w+: the database is busy; try again", "系统繁忙，本次操作未完成，请重试。"),
    # what a page lets someone open (webapp.access)
    (rf"task {_ID} is not yours or your groups'", "任务 {id} 不是您或您所在用户组的任务。"),
    (rf"case {_ID} is not one you work on", "您没有参与办理案件 {id}。"),
    # clocks, extensions, exemptions (engine.clock_control, engine.ledger, engine.approvals)
    (
        r"a pause needs a reason \(e\.g\. waiting for the applicant\)",
        "暂停计时需要说明原因（例如等待申请人补正）。",
    ),
    (
        rf"only the assignee of task {_ID} can pause its clock",
        "只有任务 {id} 的办理人可以暂停计时。",
    ),
    (rf"the clock of task {_ID} is already paused", "任务 {id} 的计时已经暂停。"),
    (
        rf"only the assignee of task {_ID} can resume its clock",
        "只有任务 {id} 的办理人可以恢复计时。",
    ),
    (rf"the clock of task {_ID} is not paused", "任务 {id} 的计时没有暂停。"),
    (r"an extension needs a reason", "申请延期需要说明原因。"),
    (
        rf"only the assignee of task {_ID} can ask for an extension",
        "只有任务 {id} 的办理人可以申请延期。",
    ),
    (rf"task {_ID} has no time limit to extend", "任务 {id} 没有时限，无需延期。"),
    (
        rf"extension (?P<ext>\d+) of task {_ID} is still awaiting a decision",
        "任务 {id} 的延期申请 {ext} 尚待审批。",
    ),
    (r"an exemption needs a documented reason", "申请免责需要有据可查的理由。"),
    (
        rf"task {_ID} has not breached its deadline; nothing to exempt",
        "任务 {id} 没有超时，无需免责。",
    ),
    (
        rf"only the responsible person or their superior can ask to exempt task {_ID}",
        "只有责任人或其上级可以为任务 {id} 申请免责。",
    ),
    (rf"no (?P<what>extension|exemption) request {_ID}", "没有{what}申请 {id}。"),
    (
        rf"(?P<what>extension|exemption) {_ID} was already (?P<status>\w+)",
        "{what}申请 {id} 已处理（{status}）。",
    ),
    (
        rf"only the superior of {_WHO} can decide (?P<what>extension|exemption) {_ID}",
        "只有 {who} 的上级可以审批{what}申请 {id}。",
    ),
    # chase tasks (engine.chase)
    (rf"no chase task {_ID}", "没有催办任务 {id}。"),
    (
        rf"chase task {_ID} is already closed \((?P<outcome>.*)\)",
        "催办任务 {id} 已关闭（{outcome}）。",
    ),
    (
        rf"chase task {_ID} is {_WHO}'s, not (?P<user>[\w.\-]+)'s",
        "催办任务 {id} 属于 {who}，不属于 {user}。",
    ),
    (rf"task {_ID} has nobody to urge yet; reassign it first", "任务 {id} 尚无人可催，请先改派。"),
    (
        rf"task {_ID} was already urged this hour; try again later",
        "任务 {id} 本小时内已催办过，请稍后再试。",
    ),
    (rf"chase task {_ID} is not yours", "催办任务 {id} 不归您处理。"),
    (r"choose someone below you in the org chart", "请选择组织架构中您的下级。"),
    (
        r"chase tasks need a person to go to: give --to",
        "催办任务不能退回组任务池：请选择接收人。",
    ),
    # 协办 and comments (engine.assistance, engine.comments)
    (r"say what input you need from the other department", "请说明需要对方部门提供什么。"),
    (
        rf"only the holder of task {_ID} can ask for 协办 on it",
        "只有任务 {id} 的办理人可以发起协办。",
    ),
    (r"unknown group (?P<group>'[^']*')", "未知用户组 {group}。"),
    (r"an answer cannot be empty", "答复不能为空。"),
    (rf"claim 协办 request {_ID} before answering it", "请先认领协办请求 {id} 再答复。"),
    (
        rf"协办 request {_ID} is {_WHO}'s, not (?P<user>[\w.\-]+)'s",
        "协办请求 {id} 属于 {who}，不属于 {user}。",
    ),
    (r"a comment cannot be empty", "意见不能为空。"),
    (r"a comment is at most (?P<n>\d+) characters", "意见最多 {n} 个字符。"),
    (rf"case (?P<case>\d+) has no task {_ID}", "案件 {case} 没有任务 {id}。"),
    # attachments (engine.attachments; refusals of the file itself carry a reason code
    # that webapp.attachments words)
    (
        r"case (?P<case>\d+) has concluded: no more attachments",
        "案件 {case} 已办结，不能再添加附件。",
    ),
    (
        rf"{_WHO} works on no open task of case (?P<case>\d+)(?: \(task \d+\))?",
        "{who} 没有在办理案件 {case} 的任务。",
    ),
    (rf"no attachment {_ID}", "没有附件 {id}。"),
    (
        rf"only {_WHO}, who added it, deletes attachment {_ID}",
        "只有上传者 {who} 可以删除附件 {id}。",
    ),
    (rf"attachment {_ID} is already deleted", "附件 {id} 已删除。"),
    # report and ledger filters (engine.accountability, webapp.ledger_view)
    (r"--to (?P<to>\S+) is before --from (?P<start>\S+)", "结束日 {to} 早于开始日 {start}。"),
    (r"no department (?P<key>'[^']*')", "没有部门 {key}。"),
    (r"exemption must be one of (?P<options>.+)", "免责筛选应为以下之一：{options}。"),
    # the supervisor's trend filter (webapp.oversight)
    (
        r"(?P<trend>by|period) must be one of (?P<choices>\w+(?:, \w+)*)",
        "{trend}应为以下之一：{choices}。",
    ),
    (
        r"at most (?P<n>\d+) (?P<period>week|month)s: choose a shorter range or months",
        "最多 {n} {period}：请缩短时间范围，或改为按月查看。",
    ),
    # a page the user's roles do not open (webapp.security, webapp.collection)
    (
        rf"{_WHO} lacks the role (?P<needed>\w+(?: or \w+)*)",
        "{who} 没有打开此页面所需的角色（{needed}）。",
    ),
    # the send log's filter (webapp.notice_log)
    (r"status must be one of (?P<options>.+)", "状态筛选应为以下之一：{options}。"),
    (r"channel must be one of (?P<options>.+)", "渠道筛选应为以下之一：{options}。"),
    # receivables (engine.collection)
    (r"a promise to pay needs a positive amount", "承诺还款金额必须大于零。"),
    (r"the promised day (?P<day>[\d-]+) is in the past", "承诺还款日 {day} 已过。"),
    (
        r"the promised day (?P<day>[\d-]+) is more than (?P<n>\d+) days ahead: "
        r"agree a payment plan instead",
        "承诺还款日 {day} 在 {n} 天以后：请改为约定分期还款。",
    ),
    (
        r"the payment day (?P<day>[\d-]+) is in the future: record it once paid",
        "付款日 {day} 尚未到来：请在收到款项后登记。",
    ),
    (
        rf"a payment with reference (?P<ref>{_Q}) is already recorded on (?P<key>\S+)",
        "流水号 {ref} 的付款已登记在 {key} 上，不能重复登记。",
    ),
    (
        r"amount (?P<raw>.+) is not a plain decimal: write e\.g\. 1234\.50 or 1,234\.50",
        "金额 {raw} 不是普通的十进制数：请写成 1234.50 或 1,234.50 这样的形式。",
    ),
    (r"amount (?P<raw>.+) is not a finite number", "金额 {raw} 不是有限数。"),
    (
        r"amount (?P<value>\S+) has more than (?P<n>\d+) decimals for (?P<currency>\w+)",
        "金额 {value} 的小数位多于 {currency} 允许的 {n} 位。",
    ),
    (r"amount (?P<value>\S+) is too large to store", "金额 {value} 过大。"),
    (r"no receivable (?P<key>.+)", "没有应收款 {key}。"),
    # incidents (engine.incidents)
    (rf"no timer {_ID}", "没有定时器 {id}。"),
    (
        rf"timer {_ID} is not a failed waiting timer \(status (?P<status>\w+)\)",
        "定时器 {id} 不是失败待重试的定时器（状态 {status}）。",
    ),
    (rf"no outbox message {_ID}", "没有待发通知 {id}。"),
    (
        rf"outbox message {_ID} is not an undeliverable one \(status (?P<status>\w+), "
        r"(?P<n>\d+) failed attempt\(s\)\)",
        "通知 {id} 不是发送失败的通知（状态 {status}，已失败 {n} 次）。",
    ),
    (
        rf"outbox message {_ID} is being sent right now: try again shortly",
        "通知 {id} 正在发送，请稍后再试。",
    ),
    # absences and hand-over (engine.absence)
    (
        r"the absence ends \((?P<end>[\d-]+)\) before it starts \((?P<start>[\d-]+)\)",
        "休假结束日（{end}）早于开始日（{start}）。",
    ),
    (rf"{_WHO} cannot be their own deputy", "{who} 不能做自己的代理人。"),
    (
        rf"{_WHO} is already away (?P<start>[\d-]+) – (?P<end>[\d-]+) \(absence {_ID}\)",
        "{who} 在 {start} 至 {end} 已有休假（{id}）。",
    ),
    (rf"no absence {_ID}", "没有休假记录 {id}。"),
    (rf"absence {_ID} is already cancelled", "休假记录 {id} 已取消。"),
    (r"reassigning to the same person changes nothing", "移交给同一个人没有变化。"),
    (r"person superiors form a loop: (?P<loop>.+)", "人员的上级关系形成了循环：{loop}。"),
    (r"department parents form a loop: (?P<loop>.+)", "部门的上级部门关系形成了循环：{loop}。"),
    (
        r"unknown user (?P<who>'[^']*'), and no open task is held under that key",
        "未知用户 {who}，也没有以此账号办理中的任务。",
    ),
    # people and groups named in a form (engine.org, engine.org_edit)
    (r"unknown user (?P<who>'[^']*')", "未知用户 {who}。"),
    (
        r"unknown (?P<kind>person|department|group) (?P<key>'[^']*') referenced in the org file",
        "组织架构文件引用了未知的{kind} {key}。",
    ),
    (r"unknown (?P<kind>person|department|group) (?P<key>'[^']*')", "未知的{kind} {key}。"),
    (
        rf"{_WHO} reports \(directly or not\) to (?P<other>[\w.\-]+)",
        "{who}（直接或间接）是 {other} 的下级，不能做其上级。",
    ),
    (r"(?P<parent>[\w.\-]+) is inside (?P<dept>[\w.\-]+)", "{parent} 是 {dept} 的下级部门。"),
    (r"a name is required", "名称必填。"),
    (r"locale (?P<raw>'[^']*'): one of (?P<options>.+)", "语言 {raw} 无效，可选：{options}。"),
    (
        r"(?P<value>.+) is not a key: letters, digits, _ \. - \(at most 100\)",
        "{value} 不是有效编号：只能用字母、数字、_ . -（最多 100 个）。",
    ),
    # the task actions' own checks (webapp.actions)
    (r"write the comment", "请填写意见。"),
    (r"choose who works on it", "请选择受托人。"),
    (r"give a reason \(e\.g\. waiting for documents\)", "请说明原因（例如等待补正材料）。"),
    (r"choose the department's group to ask", "请选择要协办的部门用户组。"),
    (r"say what input you need", "请说明需要什么。"),
    (r"write the answer", "请填写答复。"),
    (r"how long, e\.g\. 2 working days", "延期多久，例如 2 working days（2 个工作日）。"),
    (r"data must be an object of form fields", "数据应为表单字段的对象。"),
    # durations (engine.calendar.parse_duration); composed into the messages below
    (
        r"a duration has at most (?P<n>\d+) characters, e\.g\. .+",
        "时长最多 {n} 个字符，例如 3 working days、16 working hours、3个工作日。",
    ),
    (
        rf"cannot read duration (?P<raw>{_Q}): write a number and a unit, e\.g\. .+",
        "无法识别时长 {raw}：请写数字加单位，例如 3 working days、16 working hours、"
        "90 working minutes、2 days、3个工作日。",
    ),
    (
        rf"unknown unit (?P<unit>{_Q}) in duration (?P<raw>{_Q}): use working days, .+",
        "无法识别时长 {raw} 中的单位 {unit}：请用 working days、working hours、working minutes、"
        "days、hours、minutes（或 工作日、工作小时、工作分钟、天、小时、分钟）。",
    ),
    (
        rf"(?P<days>working days|days) must be a whole number in (?P<raw>{_Q}): write hours "
        r"instead, e\.g\. '10\.5 working hours'",
        "{raw} 中的{days}必须是整数：请改用小时，例如 10.5 working hours。",
    ),
    (
        rf"duration (?P<raw>{_Q}) is too long: at most (?P<n>[\d,]+) (?P<unit>[\w ]+) "
        r"\(10 years\)",
        "时长 {raw} 过长：最多 {n} {unit}（10 年）。",
    ),
    (
        rf"duration (?P<raw>{_Q}) is zero: give a time longer than nothing",
        "时长 {raw} 为零，请填写大于零的时长。",
    ),
    (r"extension: (?P<inner>.+)", "延期时长无效：{inner}"),
    (r"协办 limit: (?P<inner>.+)", "协办时限无效：{inner}"),
    # dates and periods (engine.inputs, engine.standards, engine.accountability)
    (
        r"(?P<field>[\w-]+) (?P<day>[\d-]+): the year must be (?:from )?(?P<first>\d{4})"
        r"(?:-| to )(?P<last>\d{4})",
        "日期 {day} 的年份应在 {first} 到 {last} 之间。",
    ),
    (
        rf"(?P<field>[\w-]+) (?P<raw>{_Q}): write YYYY-MM-DD",
        "{field} {raw} 不是日期：请写成 YYYY-MM-DD。",
    ),
    (
        rf"{_WHO} cannot stand in for (?P<other>[\w.\-]+): their deputies would go round in "
        r"a circle \((?P<chain>.+)\)",
        "{who} 不能代理 {other}：代理人会形成循环（{chain}）。",
    ),
    (
        r"'(?P<who>[\w.\-]+)' is the last active admin: grant another account the admin role "
        r"first",
        "{who} 是最后一个启用的管理员账号：请先授予其他账号管理员角色。",
    ),
    # SLA standards (engine.standards): the label of the standard a clock follows
    (r"basic standard \(diagram\)", "基本标准（流程图）"),
    (r"chase grace period", "催办宽限期"),  # a 催办's own clock (engine.chase)
    # notice templates (engine.notice_templates)
    (r"must be a single line", "只能写一行。"),
    (
        r"unbalanced braces; write \{\{ or \}\} for a literal brace",
        "花括号不成对；花括号本身请写成 {{{{ 或 }}}}。",
    ),
    (
        r"placeholder (?P<field>\{.*\}) is not allowed; name a value plainly, "
        r"e\.g\. (?P<e>\{\w+\})",
        "不允许使用字段 {field}；请直接写字段名，例如 {e}。",
    ),
    (
        r"placeholder (?P<field>\{.*\}) may not carry a format or conversion",
        "字段 {field} 不能带格式或转换。",
    ),
    (
        r"unknown placeholder (?P<field>\{.*\}); this notice provides: (?P<names>.+)",
        "未知字段 {field}；此类通知可用：{names}。",
    ),
    (
        r"must keep (?P<names>\{.*\}): a debtor notice has to state (it|them)",
        "必须保留字段 {names}：致债务人的通知必须写明。",
    ),
    (
        r"a debtor notice's subject has no body; leave it empty",
        "债务人通知的标题没有正文，请留空。",
    ),
    # SLA attributes and standards (engine.sla, engine.standards, engine.calendars)
    (r"SLA standard: (?P<inner>.+)", "时限标准：{inner}"),
    (r"SLA: (?P<inner>.+)", "时限 SLA：{inner}"),
    (
        rf"warning (?P<raw>{_Q}): write a fraction of the limit \(2/3, 75%\), a time before the "
        r"deadline \(1 working day before\) or after the start \(4 working hours\): "
        r"(?P<inner>.+)",
        "预警 {raw} 无法识别，请写时限的比例（2/3、75%）、截止前的时间（1 working day before）"
        "或开始后的时间（4 working hours）：{inner}",
    ),
    (
        rf"warning (?P<raw>{_Q}) must lie strictly between 0 and the limit",
        "预警 {raw} 必须在 0 与时限之间（不含两端）。",
    ),
    (
        rf"warning (?P<raw>{_Q}) would come at or after the deadline of a (?P<limit>.+) limit, "
        r"or before the clock starts",
        "预警 {raw} 会落在时限 {limit} 的截止时间或之后，或在计时开始之前，不会发出。",
    ),
    (
        rf"onDeadline (?P<raw>{_Q})(?:: use one of| is not one of) (?P<options>.+)",
        "超时处理 {raw} 无效，可选：{options}。",
    ),
    (
        rf"no calendar (?P<name>{_Q}); known calendars: (?P<known>.*)",
        "没有工作日历 {name}；已有的工作日历：{known}。",
    ),
    (
        rf"calendar (?P<name>{_Q}) has no override on (?P<day>[\d-]+)",
        "工作日历 {name} 在 {day} 没有调整。",
    ),
    (
        rf"process (?P<key>{_Q}) has no user task (?P<step>{_Q}); its user tasks: "
        r"(?P<steps>.*), or \* for the whole case",
        "流程 {key} 没有用户任务 {step}；它的用户任务有：{steps}，或用 * 表示整个案件。",
    ),
    (rf"no active SLA standard {_ID}", "没有生效中的时限标准 {id}。"),
    (
        r"priority (?P<n>-?\d+): use a whole number from (?P<low>-?\d+) to (?P<high>\d+)",
        "优先级 {n} 无效：请用 {low} 到 {high} 之间的整数。",
    ),
    (r"invalid (?P<code>expression|script): (?P<rest>.+)", "{code}无效：{rest}"),
    # timer text in a diagram (engine.timer_text)
    (r"bad timer text: (?P<inner>.+)", "定时器文本有误：{inner}"),
    (
        r"empty (?P<kind>time\w+): write e\.g\. PT4H or an ISO date",
        "{kind} 为空：请写 PT4H 这样的时长或 ISO 日期。",
    ),
    (
        r"expression language of another engine is not supported: (?P<raw>.+); use "
        r"\$\{variable\} with a plain variable name or a Python expression",
        "不支持其他引擎的表达式语言：{raw}；请用 ${{变量名}} 或 Python 表达式。",
    ),
    (
        r"Quartz/cron expressions are not supported: (?P<raw>.+); write an ISO 8601 "
        r"repeating interval such as R/PT1H",
        "不支持 Quartz/cron 表达式：{raw}；请写 ISO 8601 重复间隔，例如 R/PT1H。",
    ),
    (
        r"JavaScript is not supported in timer text: (?P<raw>.+)",
        "定时器文本不支持 JavaScript：{raw}。",
    ),
    (
        r"not a valid ISO 8601 (?P<form>duration|date-time|repeating interval): (?P<raw>.+)",
        "不是有效的 ISO 8601 {form}：{raw}。",
    ),
    # the designer's deploy problems (engine.definitions, engine.safexml)
    (
        r"not a BPMN 2\.0 document \(bpmn:definitions expected\)",
        "不是 BPMN 2.0 文档（应以 bpmn:definitions 为根元素）。",
    ),
    (r'no executable process \(isExecutable="true"\)', '没有可执行的流程（isExecutable="true"）。'),
    (
        rf"the id (?P<raw>{_Q}) is reserved; rename the element",
        "编号 {raw} 是保留字，请给元素改名。",
    ),
    (
        r"bpmn:(?P<el>\w+): service tasks are not supported yet; use a scriptTask or a userTask",
        "bpmn:{el}：暂不支持服务任务，请改用脚本任务或用户任务。",
    ),
    (
        r"bpmn:(?P<el>\w+): (?P<feature>complex gateways|compensation events|link events|"
        r"data stores|choreographies) are not supported",
        "bpmn:{el}：不支持{feature}。",
    ),
    (
        rf"(?P<end>sourceRef|targetRef) (?P<raw>{_Q}) names no element",
        "{end} {raw} 没有对应的元素。",
    ),
    (r"no incoming sequence flow", "没有流入的顺序流。"),
    (
        r"(?P<n>\d+) sequence flows leave it: only a gateway splits the flow; draw an exclusive "
        r"gateway after it to take one path, or a parallel gateway to take them all",
        "有 {n} 条顺序流从这里流出：只有网关才能分流。只走其中一条，请在它后面画一个排他网关；"
        "全部都走，请画一个并行网关。",
    ),
    (
        rf"form field (?P<field>{_Q}): unknown format (?P<raw>{_Q}); known: (?P<names>.+)",
        "表单字段 {field}：未知格式 {raw}；可用：{names}。",
    ),
    (
        rf"form field (?P<field>{_Q}): format (?P<raw>{_Q}) needs type string, not "
        rf"(?P<kind>{_Q})",
        "表单字段 {field}：格式 {raw} 只能用于 string 类型，不能用于 {kind}。",
    ),
    (
        rf"condition (?P<raw>{_Q}) is in another engine's expression language; write a Python "
        r"expression \(e\.g\. approved == True\)",
        "条件 {raw} 使用了其他引擎的表达式语言，请写 Python 表达式（例如 approved == True）。",
    ),
    (rf"condition language (?P<raw>{_Q}) not supported", "不支持条件语言 {raw}。"),
    (rf"scriptFormat (?P<raw>{_Q}) not supported", "不支持脚本格式 {raw}。"),
    (r"script task has no script", "脚本任务没有脚本。"),
    (
        rf"notifyApplicant: no notice (?P<raw>{_Q}); known: (?P<names>.+)",
        "notifyApplicant：没有通知 {raw}；已有：{names}。",
    ),
    (
        rf"calls process (?P<key>{_Q}), which is neither in this deploy nor deployed before",
        "调用的流程 {key} 既不在本次部署中，也未曾部署。",
    ),
    (
        r"(?P<file>[^:]+): not well-formed XML: (?P<why>.+), line (?P<line>\d+), "
        r"column (?P<col>\d+) \(.*\)",
        "{file}：XML 格式不正确（第 {line} 行第 {col} 列）：{why}",
    ),
    (r"(?P<file>[^:]+): not well-formed XML: (?P<rest>.+)", "{file}：XML 格式不正确：{rest}"),
    (
        r"(?P<file>[^:]+): file is (?P<size>[\d,]+) bytes, over the limit of (?P<limit>[\d,]+)",
        "{file}：文件有 {size} 字节，超过了 {limit} 字节的上限。",
    ),
    (
        r"(?P<file>[^:]+): DTDs and entity declarations are not allowed",
        "{file}：不允许使用 DTD 和实体声明（<!DOCTYPE>、<!ENTITY>）。",
    ),
    (
        r'send JSON \{"xml": .+\}',
        '请求应为 JSON：{{"xml": "<bpmn:definitions …>", "file": "name.bpmn"}}。',
    ),
    # decision tables: hit policies and FEEL unary tests (engine.feel)
    (
        r"hit policy (?P<policy>\w+) with aggregation is not supported; use UNIQUE, FIRST or "
        r"COLLECT \(without aggregation\)",
        "不支持带聚合的命中策略 {policy}；请用 UNIQUE、FIRST 或 COLLECT（不带聚合）。",
    ),
    (
        r"hit policy (?P<policy>\w+) is not supported; use UNIQUE, FIRST or COLLECT "
        r"\(without aggregation\)",
        "不支持命中策略 {policy}；请用 UNIQUE、FIRST 或 COLLECT（不带聚合）。",
    ),
    (r"FEEL (?P<inner>.+)", "FEEL 条件有误：{inner}"),
    (r"not must be written not\(test, \.\.\.\)", "not 应写成 not(条件, ...)。"),
    (r"not\(\) needs at least one test", "not() 中至少要有一个条件。"),
    (
        rf"(?P<test>{_Q}): '(?P<op>[^']+)' is not FEEL in a unary test; write the value, or "
        r"not\(value\)",
        "{test}：'{op}' 不是一元测试的 FEEL 写法；请直接写值，或写 not(值)。",
    ),
    (
        rf"(?P<test>{_Q}): '\?' is not supported; write the test without it \(e\.g\. > 5\)",
        "{test}：不支持 '?'；请去掉它再写条件（例如 > 5）。",
    ),
    (rf"(?P<test>{_Q}): unexpected (?P<raw>{_Q})", "{test}：无法识别 {raw}。"),
    (r"empty test in a list: check the commas", "列表中有空条件：请检查逗号。"),
    (
        rf"(?P<test>{_Q}): a comparison takes one value, e\.g\. > 90",
        "{test}：比较只能跟一个值，例如 > 90。",
    ),
    (
        rf"(?P<test>{_Q}): function (?P<name>\w+)\(\) is not supported",
        "{test}：不支持函数 {name}()。",
    ),
    (
        rf"(?P<test>{_Q}): expressions are not supported in a unary test",
        "{test}：一元测试中不支持表达式。",
    ),
    (
        rf"(?P<test>{_Q}): a range is written \[low\.\.high\], \(low\.\.high\] etc\.",
        "{test}：区间应写成 [下限..上限]、(下限..上限] 等形式。",
    ),
    (
        rf"name (?P<name>{_Q}) is not supported: compare the input with a literal \(number, "
        r'"string", true, false, null\)',
        '不支持名称 {name}：请把输入与字面值比较（数字、"字符串"、true、false、null）。',
    ),
    (rf"(?P<raw>{_Q}) is not a value", "{raw} 不是一个值。"),
    (r"unknown escape (?P<escape>\\.?) in string", "字符串中有无法识别的转义 {escape}。"),
    # accounts and the org file (engine.accounts, engine.org, engine.org_edit)
    (rf"(?P<who>{_Q}) already has an account", "{who} 已有账号。"),
    (rf"(?P<who>{_Q}) has no account", "{who} 没有账号。"),
    (r"a password needs at least (?P<n>\d+) characters", "密码至少 {n} 个字符。"),
    (r"at least (?P<n>\d+) characters", "至少 {n} 个字符。"),
    (
        r"the last active admin cannot lose the admin role",
        "最后一个启用的管理员账号不能失去管理员角色。",
    ),
    (
        r"unknown role (?P<roles>.+); roles are (?P<options>.+)",
        "未知角色 {roles}；可选角色：{options}。",
    ),
    (r"choose from (?P<options>.+)", "请从以下选择：{options}。"),
    (r"a token needs a name \(which client uses it\)", "令牌需要名称（说明哪个客户端使用）。"),
    (r"at most (?P<n>\d+) characters", "最多 {n} 个字符。"),
    (r"(?s)(?P<file>[^:]+): not valid YAML: (?P<rest>.+)", "{file}：不是有效的 YAML：{rest}"),
    (
        r"(?P<file>[^:]+): expected a mapping with departments, people, groups",
        "{file}：应为包含 departments、people、groups 的映射（mapping）。",
    ),
    (
        r"a (?P<kind>person|department|group) entry has no (?P<field>\w+): (?P<row>.+)",
        "有一个{kind}条目缺少 {field}：{row}。",
    ),
    # the org file's keys and shape (engine.org.parse_org_file)
    (
        r"(?P<kind>person|department|group) (?P<entry>'[^']*'|#\d+): unknown key (?P<key>.+); "
        r"(?:person|department|group) keys are (?P<keys>.+)",
        "{kind} {entry}：未知的键 {key}；可用的键：{keys}。",
    ),
    (
        r"department (?P<entry>'[^']*'|#\d+): unknown webhook key (?P<key>.+); "
        r"webhook keys are (?P<keys>.+)",
        "部门 {entry}：webhook 中有未知的键 {key}；可用的键：{keys}。",
    ),
    (
        r"person (?P<entry>'[^']*'|#\d+): groups must be a list of group keys, not (?P<value>.+)",
        "人员 {entry}：groups 应是用户组编号的列表，不能是 {value}。",
    ),
    (
        r"(?P<file>[^:]+): unknown key (?P<key>.+); top-level keys are (?P<keys>.+)",
        "{file}：未知的顶层键 {key}；可用的键：{keys}。",
    ),
    (
        r"(?P<file>[^:]+): unknown column (?P<key>.+) in the header; columns are (?P<keys>.+)",
        "{file}：表头中有未知的列 {key}；可用的列：{keys}。",
    ),
    (
        r"(?P<file>[^:]+): (?P<section>departments|people|groups) must be a list, one entry a "
        r"line \(- key: …\)",
        "{file}：{section} 应是列表，每行一项（- key: …）。",
    ),
    (rf"person (?P<key>{_Q}): (?P<inner>.+)", "人员 {key}：{inner}"),
    # the admin's org upload checks the file's shape first (webapp.admin)
    (
        r"(?P<section>departments|people|groups): every entry must be a mapping, not "
        r"(?P<row>.+)",
        "{section}：每一项都应是映射（mapping，即“键: 值”），不能是 {row}。",
    ),
    (
        r"(?P<section>departments|people|groups) (?P<key>.*): webhook must be a mapping",
        "{section} {key}：webhook 应是映射（mapping），例如 {{url: ..., format: ...}}。",
    ),
    (
        r"(?P<section>departments|people|groups) (?P<key>.*): groups must be a list",
        "{section} {key}：groups 应是列表，例如 [reception, reviewers]。",
    ),
    (
        r"the org file has an entry of the wrong shape: (?P<rest>.+)",
        "组织架构文件中有结构不对的条目：{rest}",
    ),
    # the supervisor's board (webapp.decisions)
    (
        rf"no chase action (?P<raw>{_Q}); actions are (?P<options>.+)",
        "没有催办操作 {raw}；可用操作：{options}。",
    ),
    (r"say why it is refused", "请说明驳回理由。"),
    # payments, filters, aging (engine.collection.fees, .listing, .aging)
    (r"a payment must be a positive amount", "付款金额必须大于零。"),
    (
        r"a payment on (?P<on>[\d-]+) would change how the payment of (?P<latest>[\d-]+) was "
        r"allocated; record payments in date order",
        "{on} 的付款会改变 {latest} 那笔付款的分配：请按日期顺序登记付款。",
    ),
    (
        r"payment of (?P<amount>\S+) is more than the (?P<owed>\S+) owed on (?P<on>[\d-]+)",
        "付款 {amount} 超过了 {on} 的欠款 {owed}。",
    ),
    (
        r"(?:page|per_page) must be a whole number from 1 to (?P<top>\d+)",
        "应为 1 到 {top} 之间的整数。",
    ),
    (r"(?P<column>product|grade): one of (?P<options>.+)", "{column}应为以下之一：{options}。"),
    (r"overdue: yes or no", "是否逾期：请选 yes 或 no。"),
    (
        r"bucket edges must be increasing whole days ≥ 1, e\.g\. 30,60,90",
        "账龄分段点应为递增的整数天数（≥ 1），例如 30,60,90。",
    ),
    (
        r"at most (?P<n>\d+) bucket edges, each at most (?P<days>\d+) days \(ten years\)",
        "最多 {n} 个分段点，每个不超过 {days} 天（十年）。",
    ),
    (
        rf"bucket edges (?P<raw>{_Q}): whole days separated by commas",
        "分段点 {raw} 无效：请写用逗号分隔的整数天数。",
    ),
    # the receivables import: the file, then each row (engine.collection.importing)
    (
        r"the file is empty: a header line with column names comes first",
        "文件为空：第一行应为列名。",
    ),
    (
        r"unknown column\(s\) (?P<unknown>[^;]+); missing column\(s\) (?P<missing>[^;]+); "
        r"the columns are: (?P<columns>.+)",
        "未知列：{unknown}；缺少列：{missing}。可用的列：{columns}。",
    ),
    (
        r"unknown column\(s\) (?P<unknown>[^;]+); the columns are: (?P<columns>.+)",
        "未知列：{unknown}。可用的列：{columns}。",
    ),
    (
        r"missing column\(s\) (?P<missing>[^;]+); the columns are: (?P<columns>.+)",
        "缺少列：{missing}。可用的列：{columns}。",
    ),
    (r"more fields than columns", "字段数多于列数。"),
    (r"(?P<column>\w+) is required", "{column} 必填。"),
    (
        rf"(?P<field>\w+) (?P<raw>{_Q}): not an active ISO 4217 currency code, such as CNY, "
        r"USD or EUR",
        "{field} {raw} 不是现行的 ISO 4217 币种代码，例如 CNY、USD、EUR。",
    ),
    (
        rf"(?P<field>\w+) (?P<raw>{_Q}): not a phone number: (?P<low>\d+) to (?P<high>\d+) "
        r"digits, with an optional leading \+ and spaces, dashes or parentheses",
        "{field} {raw} 不是电话号码：应为 {low} 到 {high} 位数字，"
        "可带开头的 +、空格、连字符或括号。",
    ),
    (
        rf"(?P<field>\w+) (?P<raw>{_Q}): not an e-mail address: write name@domain\.tld",
        "{field} {raw} 不是电子邮件地址：请写成 name@domain.tld。",
    ),
    (r"(?P<field>\w+) is longer than (?P<n>\d+) characters", "{field} 超过 {n} 个字符。"),
    (
        rf"collector (?P<key>{_Q}) is no longer active in the organisation: name an active person",
        "催收员 {key} 已不在组织中任职：请指定在职人员。",
    ),
    (
        rf"(?P<column>product|guarantee) (?P<raw>{_Q}): one of (?P<options>.+)",
        "{column} {raw} 无效，可选：{options}。",
    ),
    (r"principal must be more than 0", "principal（本金）必须大于 0。"),
    (r"credit_limit must not be negative", "credit_limit（授信额度）不能为负数。"),
    (
        r"opened_on (?P<opened>[\d-]+) is after the first due date (?P<due>[\d-]+)",
        "opened_on（开立日）{opened} 晚于首个到期日 {due}。",
    ),
    (
        r"blacklisted customers need a blacklist_reason",
        "列入黑名单的客户需要填写 blacklist_reason（原因）。",
    ),
    (rf"(?P<column>\w+) (?P<raw>{_Q}): yes or no", "{column} {raw} 无效：请填 yes 或 no。"),
    (
        rf"grace_days (?P<raw>{_Q}): a whole number of days",
        "grace_days（宽限天数）{raw} 应为整数天数。",
    ),
    (
        r"schedule principal adds up to (?P<total>\S+), not the principal (?P<principal>\S+)",
        "还款计划的本金合计 {total}，与本金 {principal} 不符。",
    ),
    (
        rf"schedule item (?P<raw>{_Q}): write DATE=PRINCIPAL\[\+INTEREST\]",
        "还款计划项 {raw} 无效：请写成 日期=本金[+利息]。",
    ),
    (
        r"(?P<column>principal|credit_limit|penalty_cap|schedule): (?P<inner>.+)",
        "{column}：{inner}",
    ),
    (rf"receivable (?P<key>{_Q}) exists already", "应收款 {key} 已存在。"),
    (
        rf"receivable (?P<key>{_Q}) appears twice in this file",
        "应收款 {key} 在本文件中出现了两次。",
    ),
    (
        rf"department (?P<key>{_Q}) is not a department in the organisation",
        "department（部门）{key} 不是组织架构中的部门。",
    ),
    (
        rf"customer (?P<key>{_Q}) is new: customer_name is required",
        "客户 {key} 是新客户：customer_name（客户名称）必填。",
    ),
    (
        rf"(?P<column>\w+) (?P<key>{_Q}) is not a person in the organisation",
        "{column} {key} 不是组织架构中的人员。",
    ),
]

_KINDS = {"person": "人员", "department": "部门", "group": "用户组",
          "extension": "延期", "exemption": "免责"}  # fmt: skip
_STATES = {"completed": "办结", "cancelled": "取消", "open": "办理中"}
# A duration's unit (engine.calendar's codes) as a Chinese page writes it; messages
# write the codes as words ("working days").
_DURATION_UNITS = {
    "working_days": "个工作日", "working_hours": "个工作小时", "working_minutes": "个工作分钟",
    "days": "天", "hours": "小时", "minutes": "分钟",
}  # fmt: skip
_UNITS = {code.replace("_", " "): chinese for code, chinese in _DURATION_UNITS.items()}
_WORDS: dict[str, dict[str, str]] = {
    "kind": _KINDS, "what": _KINDS, "state": _STATES, "unit": _UNITS,
    "status": {"approved": "已批准", "refused": "已驳回", "pending": "待审批"},
    "days": {"working days": "工作日数", "days": "天数"},
    "form": {"duration": "时长", "date-time": "日期时间", "repeating interval": "重复间隔"},
    "code": {"expression": "表达式", "script": "脚本"},
    "feature": {"complex gateways": "复杂网关", "compensation events": "补偿事件",
                "link events": "链接事件", "data stores": "数据存储", "choreographies": "编排"},
    "column": {"product": "产品", "grade": "风险等级"},
    "bound": {"from": "开始日", "to": "结束日"},
    "trend": {"by": "分组", "period": "周期"}, "period": {"week": "周", "month": "个月"},
    # libxml2's commonest reasons (lxml words them); any other stays as it is
    "why": {"Document is empty": "文件为空",
            "Start tag expected, '<' not found": "不是 XML（应以“<”开头的标签开始）",
            "Invalid bytes in character encoding": "字符编码无效，请存为 UTF-8",
            "Extra content at the end of the document": "文档结尾后还有多余内容"},
}  # fmt: skip
# The same names as webapp.filters.ROLES (its msgids; a test keeps them equal). Not
# imported: filters imports this module, and these are needed outside a request too.
_ROLES = {"staff": "工作人员", "supervisor": "主管", "auditor": "审计员",
          "designer": "流程设计", "admin": "系统管理员"}  # fmt: skip
# Groups that are lists of known words: (separator in the English, the words, "or"?)
_LISTS: dict[str, tuple[str, dict[str, str], bool]] = {
    "needed": (" or ", _ROLES, True),
    "choices": (", ", {"person": "人员", "step": "环节", "week": "周", "month": "月"}, False),
}
_COMPILED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern), chinese) for pattern, chinese in ENTRIES
]
_FORM = re.compile(r"invalid form data: (?P<parts>.+)")


def localize(message: str) -> str:
    """``message`` in the page's language, people by name (the English as it is, but for
    the names, when not catalogued)."""
    if not message:
        return message
    people = _people(message)
    if current_locale() == "en":
        return _named(message, people)
    return chinese(message, people) or _named(message, people)


def chinese(message: str, people: Mapping[str, str] | None = None) -> str | None:
    """The catalogue's Chinese for ``message``, or ``None`` if it has no entry; a person
    whose key is in ``people`` by their name there."""
    form = _FORM.fullmatch(message)
    if form:
        return "表单数据有误：" + "；".join(
            _field_part(part) for part in form.group("parts").split("; ")
        )
    for pattern, text in _COMPILED:
        found = pattern.fullmatch(message)
        if found:
            parts = {k: _word(k, v, people or {}) for k, v in found.groupdict().items()}
            if "inner" in parts:
                parts["inner"] = chinese(found["inner"], people)
                if parts["inner"] is None:
                    continue
            return text.format(**parts)
    return None


def _people(message: str) -> dict[str, str]:
    """The names of the people ``message`` names by key (read only if it names any)."""
    return page_person_names(set(_person_keys(message)))


def _person_keys(message: str) -> Iterator[str]:
    """The person keys in ``message``: the person groups of every entry it matches."""
    for pattern, _ in _COMPILED:
        found = pattern.fullmatch(message)
        if found is None:
            continue
        for name, value in found.groupdict().items():
            if value is not None and name in PERSON_GROUPS:
                yield _unquoted(value)
            elif value is not None and name == "inner":
                yield from _person_keys(value)


def _named(message: str, people: Mapping[str, str]) -> str:
    """The English ``message`` with the people its first entry names by key by name."""
    found = next(filter(None, (p.fullmatch(message) for p, _ in _COMPILED)), None)
    if found is None or not people:
        return message
    spans = sorted(
        (found.span(name), name) for name in PERSON_GROUPS | {"inner"}
        if name in found.re.groupindex and found[name] is not None
    )  # fmt: skip
    text, end = "", 0
    for (start, stop), name in spans:
        part = message[start:stop]
        named = _named(part, people) if name == "inner" else _person(part, people)
        text, end = text + message[end:start] + named, stop
    return text + message[end:]


def _person(value: str, people: Mapping[str, str]) -> str:
    """A person group's value: the person's name, or the value as written."""
    return people.get(_unquoted(value), value)


def _unquoted(value: str) -> str:
    """A key the engine quoted with repr() (``'li'``) as the key itself."""
    quoted = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
    return value[1:-1] if quoted else value


def duration_chinese(text: str) -> str | None:
    """A duration as the engine writes it (``3 working days``) in Chinese, or ``None`` if
    ``text`` is not one."""
    try:
        duration = parse_duration(text)
    except CalendarError:
        return None
    return f"{duration.amount.normalize():f} {_DURATION_UNITS[duration.unit]}"


def _field_part(part: str) -> str:
    field, _, problem = part.partition(": ")
    return f"{field}：{chinese(problem) or problem}"


def _word(name: str, value: str, people: Mapping[str, str]) -> str:
    """Known words inside a message (a kind of thing, a task state, a unit) in Chinese too,
    people by name."""
    if name in PERSON_GROUPS:
        return _person(value, people)
    if name in _LISTS:
        return _listed(value, *_LISTS[name])
    return _WORDS.get(name, {}).get(value, value)


def _listed(value: str, separator: str, words: dict[str, str], alternatives: bool) -> str:
    """``a or b or c`` as ``甲、乙或丙``; ``a, b`` as ``甲、乙`` (unknown words as they are)."""
    items = [words.get(item, item) for item in value.split(separator)]
    if alternatives and len(items) > 1:
        return "、".join(items[:-1]) + "或" + items[-1]
    return "、".join(items)
