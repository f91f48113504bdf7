"""The zh/en texts of every domain error, keyed by the error's message key.

A plain dict rather than gettext catalogues: the domain must stay importable without any
translation machinery, the texts are few, and a test checks that every key has both languages
with the same placeholders. The web layer may still feed these into Flask-Babel.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # time and contest
    "time.naive": {
        "zh": "时间 {field} 必须带时区（例如 +08:00）。",
        "en": "The time {field} must carry a time zone (e.g. +08:00).",
    },
    "contest.exists": {
        "zh": "赛事 {contest} 已经创建。",
        "en": "The contest {contest} has already been created.",
    },
    "contest.not_found": {
        "zh": "找不到赛事 {contest}。",
        "en": "There is no contest {contest}.",
    },
    "contest.field_invalid": {
        "zh": "赛事字段 {field} 的值不可用：{value}。",
        "en": "The contest field {field} has an unusable value: {value}.",
    },
    "calendar.out_of_order": {
        "zh": "赛程中 {earlier} 必须早于 {later}。",
        "en": "In the calendar, {earlier} must come before {later}.",
    },
    "contest.documents_called": {
        "zh": "主办方已于 {called_at} 通知上传报名材料。",
        "en": "The organiser already called for the registration documents at {called_at}.",
    },
    "contest.round_started": {
        "zh": "初赛已于 {started} 开始，不能再进行此操作。",
        "en": "The preliminary round started at {started}; this can no longer be done.",
    },
    "registration.closed": {
        "zh": "报名已于 {deadline} 截止。",
        "en": "Registration closed at {deadline}.",
    },
    "registration.modification_closed": {
        "zh": "修改报名信息已于 {deadline} 截止。",
        "en": "Changes to registrations closed at {deadline}.",
    },
    # scoring rules
    "rules.frozen": {
        "zh": "初赛已于 {started} 开始，评分细则不能再更改。",
        "en": "The preliminary round started at {started}; the scoring rules can no longer change.",
    },
    "rules.unchanged": {
        "zh": "该评分细则与已发布的第 {version} 版相同。",
        "en": "These scoring rules are the same as the published version {version}.",
    },
    "rules.not_published": {
        "zh": "赛事尚未发布评分细则。",
        "en": "The contest has not published its scoring rules yet.",
    },
    # accounts
    "account.exists": {
        "zh": "该登录名的账号已存在。",
        "en": "An account with this login already exists.",
    },
    "account.not_found": {
        "zh": "找不到该账号。",
        "en": "There is no such account.",
    },
    "account.role_unknown": {
        "zh": "未知角色 {role}；可选：{roles}。",
        "en": "Unknown role {role}; choose one of {roles}.",
    },
    "account.signing_key": {
        "zh": "角色 {role} 的账户须（或不得）持有个人签名密钥：人员签名，服务身份不签名。",
        "en": "An account of the role {role} has the wrong kind of key: people hold a "
        "signing key, service identities do not.",
    },
    "account.in_team": {
        "zh": "该账户已属于队伍 {team}；一个账户只能加入一支队伍。",
        "en": "This account already belongs to the team {team}; an account joins one team.",
    },
    "team.invitation_not_found": {
        "zh": "没有与此令牌对应的有效邀请（已使用、已过期或从未发出）。",
        "en": "There is no open invitation with this token (used, expired or never sent).",
    },
    "team.member_not_found": {
        "zh": "该账户不是本队成员。",
        "en": "That account is not a member of this team.",
    },
    "signature.own_key": {
        "zh": "您的签名密钥是在他人设定的密码下生成的："
        "请先设置您自己的密码（huiyan account password），再签署决定。",
        "en": "Your signing key was made under a password someone else chose: set your own "
        "password first (huiyan account password), then sign.",
    },
    "signature.invalid": {
        "zh": "个人签名无法验证（{why}），决定未记录。",
        "en": "The personal signature does not verify ({why}); nothing was recorded.",
    },
    "signature.required": {
        "zh": "此决定（{meaning}）须由本人签名。",
        "en": "This decision ({meaning}) must carry its maker's personal signature.",
    },
    "account.not_permitted": {
        "zh": "角色 {role} 无权执行操作 {action}。",
        "en": "The role {role} may not {action}.",
    },
    # teams
    "team.not_found": {
        "zh": "找不到队伍 {team}。",
        "en": "There is no team {team}.",
    },
    "team.name_missing": {
        "zh": "队伍名称不能为空。",
        "en": "The team needs a name.",
    },
    "team.name_invalid": {
        "zh": "队伍名称含有不可见或会改变文字顺序的字符 {character}。",
        "en": "The team name contains {character}, a character that cannot be seen "
        "or that reorders text.",
    },
    "team.name_taken": {
        "zh": "本赛事已有名为 {name} 的队伍（比较时不计全角半角、大小写和空格）。",
        "en": "Another team of this contest is already called {name} "
        "(names are compared ignoring width, case and spaces).",
    },
    "team.not_yours": {
        "zh": "队伍 {team} 不是您的队伍：负责人只能代表本队操作。",
        "en": "The team {team} is not yours: a leader acts only for their own team.",
    },
    "team.size": {
        "zh": "每支队伍 {minimum} 至 {maximum} 人（含负责人），本队 {size} 人。",
        "en": "A team has {minimum} to {maximum} people, leader included; this one has {size}.",
    },
    "team.one_leader": {
        "zh": "每支队伍须有且仅有一名负责人，本队有 {count} 名。",
        "en": "A team has exactly one leader; this one has {count}.",
    },
    "team.member_twice": {
        "zh": "第 {position} 位成员在本队中重复出现。",
        "en": "Member {position} appears twice in this team.",
    },
    "team.person_taken": {
        "zh": "第 {position} 位成员已在本赛事的另一支队伍中；同一人只能参加一个团队。",
        "en": "Member {position} is already in another team of this contest; "
        "a person may be in one team only.",
    },
    "team.organisation_missing": {
        "zh": "第 {position} 位成员未填写所属机构。",
        "en": "Member {position} has no organisation.",
    },
    "team.organisation_invalid": {
        "zh": "第 {position} 位成员的所属机构名称含有不可见或会改变文字顺序的字符 {character}。",
        "en": "The organisation of member {position} contains {character}, a character "
        "that cannot be seen or that reorders text.",
    },
    "team.organisation_code_invalid": {
        "zh": "统一社会信用代码 {code} 格式不正确（应为 18 位）。",
        "en": "The unified social credit code {code} is malformed (it has 18 characters).",
    },
    "team.language_unknown": {
        "zh": "参赛语言 {language} 不可用；可选 zh 或 en。",
        "en": "The language {language} is not offered; choose zh or en.",
    },
    "team.language_locked": {
        "zh": "参赛语言已选定为 {language}，不得变更。",
        "en": "The team's language is {language}; once chosen it cannot change.",
    },
    "team.language_missing": {
        "zh": "提交审核前须选定参赛语言。",
        "en": "Choose the team's language before submitting for review.",
    },
    "team.status_forbids": {
        "zh": "队伍处于 {status} 状态，不能 {action}。",
        "en": "The team is {status}; it cannot {action}.",
    },
    "team.disqualified": {
        "zh": "队伍因成员机构列入失信名单已被取消参赛资格。",
        "en": "The team is disqualified: a member organisation is on a credit blacklist.",
    },
    "team.not_disqualified": {
        "zh": "队伍未被取消参赛资格。",
        "en": "The team is not disqualified.",
    },
    "team.track_unknown": {
        "zh": "本赛事没有赛道 {track}。",
        "en": "The contest has no track {track}.",
    },
    "team.group_unknown": {
        "zh": "赛道 {track} 没有分组 {group}。",
        "en": "Track {track} has no group {group}.",
    },
    "team.track_entered": {
        "zh": "队伍已报名赛道 {track} 的 {group}；同一赛道仅限选择一个分组。",
        "en": "The team already entered track {track} in group {group}; one group per track.",
    },
    "team.track_not_entered": {
        "zh": "队伍未报名赛道 {track}。",
        "en": "The team has not entered track {track}.",
    },
    "team.no_track": {
        "zh": "提交审核前须至少报名一个赛道。",
        "en": "Enter at least one track before submitting for review.",
    },
    "team.document_kind_unknown": {
        "zh": "未知材料类型 {kind}；可选：{kinds}。",
        "en": "Unknown document kind {kind}; choose one of {kinds}.",
    },
    "team.document_missing": {
        "zh": "提交审核前须上传材料 {kind}。",
        "en": "Upload the document {kind} before submitting for review.",
    },
    "team.documents_not_called": {
        "zh": "主办方尚未通知上传 {kind}。",
        "en": "The organiser has not yet called for the document {kind}.",
    },
    "decision.reason_required": {
        "zh": "此决定须写明理由。",
        "en": "This decision needs a reason.",
    },
    # blacklists
    "blacklist.empty": {
        "zh": "名单没有任何条目。",
        "en": "The list has no entries.",
    },
    "blacklist.entry_invalid": {
        "zh": "名单第 {line} 行不可用：缺少机构名称。",
        "en": "Line {line} of the list is unusable: it has no organisation name.",
    },
    "blacklist.imported": {
        "zh": "该名单文件（SHA-256 {sha256}）已经导入。",
        "en": "This list file (SHA-256 {sha256}) has already been imported.",
    },
    "blacklist.match_not_found": {
        "zh": "队伍没有名单匹配 {match}。",
        "en": "The team has no blacklist match {match}.",
    },
    # uploads
    "upload.not_pdf": {
        "zh": "文件 {name} 不是 PDF。",
        "en": "The file {name} is not a PDF.",
    },
    "upload.too_large": {
        "zh": "文件 {name} 超过大小上限 {limit} 字节。",
        "en": "The file {name} is larger than the limit of {limit} bytes.",
    },
    "upload.unreadable": {
        "zh": "无法读取 PDF 文件 {name}：{reason}。",
        "en": "The PDF file {name} cannot be read: {reason}.",
    },
    "upload.encrypted": {
        "zh": "PDF 文件 {name} 已加密，请上传未加密的文件。",
        "en": "The PDF file {name} is encrypted; upload it without a password.",
    },
    "upload.no_pages": {
        "zh": "PDF 文件 {name} 没有页面。",
        "en": "The PDF file {name} has no pages.",
    },
    "upload.script": {
        "zh": "PDF 文件 {name} 含有 JavaScript 或启动程序的动作（{where}），不予接受。",
        "en": "The PDF file {name} contains JavaScript or a launch action ({where}); "
        "documents with active content are refused.",
    },
    "upload.embedded_file": {
        "zh": "PDF 文件 {name} 内嵌了其他文件（{where}），请将其内容作为页面合并后再上传。",
        "en": "The PDF file {name} carries embedded files ({where}); "
        "merge their content in as pages instead.",
    },
    # submissions (issue 5)
    "submission.not_found": {
        "zh": "找不到提交 {submission}。",
        "en": "There is no submission {submission}.",
    },
    "submission.window_closed": {
        "zh": "模型提交时间为 {start} 至 {end}（不含）。",
        "en": "Models are submitted from {start} until {end}.",
    },
    "submission.daily_quota": {
        "zh": "队伍在 {day} 已用完赛道 {track} 的 {limit} 次提交机会，请次日再试。",
        "en": "The team has used its {limit} submissions for track {track} on {day}; "
        "try again the next day.",
    },
    "submission.total_quota": {
        "zh": "队伍已用完赛道 {track} 的全部 {limit} 次提交机会。",
        "en": "The team has used all {limit} submissions for track {track}.",
    },
    "submission.model_kind_unknown": {
        "zh": "未知模型类型 {kind}；可选：{kinds}。",
        "en": "Unknown model kind {kind}; choose one of {kinds}.",
    },
    "submission.hash_invalid": {
        "zh": "{field} 必须是 SHA-256 摘要（不接受名称或标签），收到 {value}。",
        "en": "{field} must be a SHA-256 digest, never a name or a tag; got {value}.",
    },
    "submission.failure_reason_unknown": {
        "zh": "未知运行失败原因 {reason}；可选：{reasons}。",
        "en": "Unknown run failure {reason}; choose one of {reasons}.",
    },
    "submission.not_inferred": {
        "zh": "提交 {submission} 尚未完成推理，不能评分。",
        "en": "Submission {submission} has no completed inference to score.",
    },
    "submission.score_inputs_mismatch": {
        "zh": "评分使用的 {field} 为 {got}，但该提交应使用 {expected}。",
        "en": "The score used {field} {got}, but this submission needs {expected}.",
    },
    "testset.missing": {
        "zh": "赛道 {track} 尚未登记测试集。",
        "en": "Track {track} has no test set yet.",
    },
    "testset.unchanged": {
        "zh": "该测试集已是赛道 {track} 的当前测试集。",
        "en": "This test set is already the current one of track {track}.",
    },
    "debug.already_open": {
        "zh": "调试阶段已经开启。",
        "en": "The debug phase is already open.",
    },
    "debug.already_closed": {
        "zh": "调试阶段未开启。",
        "en": "The debug phase is not open.",
    },
    # storage
    "ledger.concurrent_change": {
        "zh": "该记录刚被他人同时修改，请重试。",
        "en": "Someone changed this record at the same moment; try again.",
    },
    # what a team sees: huiyan team status (issue 10); labels, not errors
    "overview.title": {
        "zh": "队伍 {team} 的参赛概览（{at}）",
        "en": "Overview of team {team} ({at})",
    },
    "overview.contest_day": {
        "zh": "当前比赛日：{day}（北京时间，提交次数按比赛日计算）",
        "en": "Contest day: {day} (Asia/Shanghai; daily submissions count by this day)",
    },
    "overview.window_open": {
        "zh": "模型提交开放中：{start} 至 {end}（不含）。",
        "en": "Submissions are open from {start} until {end}.",
    },
    "overview.window_closed": {
        "zh": "当前不能提交模型：提交时间为 {start} 至 {end}（不含）。",
        "en": "Submissions are closed now; they are open from {start} until {end}.",
    },
    "overview.tracks": {
        "zh": "赛道与剩余提交次数：",
        "en": "Tracks and submissions left:",
    },
    "overview.track": {
        "zh": "赛道 {track}「{track_name}」，{group}",
        "en": "Track {track} ({track_name}), {group}",
    },
    "overview.quota": {
        "zh": "今日剩余 {left_today} 次（每日 {per_day} 次），"
        "总计剩余 {left_total} 次（共 {total} 次）",
        "en": "{left_today} left today (of {per_day} a day), {left_total} left in total "
        "(of {total})",
    },
    "overview.standing": {
        "zh": "排名第 {rank}，综合得分 {score}",
        "en": "Rank {rank}, combined score {score}",
    },
    "overview.leaderboard": {
        "zh": "排行榜：",
        "en": "Leaderboard:",
    },
    "overview.leaderboard_not_published": {
        "zh": "排行榜尚未公布；公布后此处显示本队的排名和综合得分。",
        "en": "The leaderboard is not published yet; the team's rank and combined score "
        "will show here once it is.",
    },
    "overview.submissions": {
        "zh": "提交记录（最新在前）：",
        "en": "Submissions (newest first):",
    },
    "overview.no_submissions": {
        "zh": "尚无提交。",
        "en": "No submissions yet.",
    },
    "overview.submission": {
        "zh": "{at} 赛道 {track} 提交 {submission}：{status}",
        "en": "{at} track {track} submission {submission}: {status}",
    },
    "overview.status.submitted": {"zh": "已提交，等待运行", "en": "submitted, waiting to run"},
    "overview.status.running": {"zh": "运行中", "en": "running"},
    "overview.status.inferred": {
        "zh": "推理完成，等待评分",
        "en": "inferred, waiting for its score",
    },
    "overview.status.scored": {"zh": "已评分", "en": "scored"},
    "overview.status.failed": {"zh": "失败", "en": "failed"},
    "overview.score": {
        "zh": "主要指标 {metric} = {value}",
        "en": "Primary metric {metric} = {value}",
    },
    "overview.gates_failed": {
        "zh": "未通过评分门槛。",
        "en": "The scoring gates were not passed.",
    },
    "overview.failure": {
        "zh": "失败原因：{reason}",
        "en": "Why it failed: {reason}",
    },
    "overview.reason.timeout": {"zh": "运行超时", "en": "it ran out of time"},
    "overview.reason.out_of_memory": {"zh": "内存不足", "en": "it ran out of memory"},
    "overview.reason.crashed": {"zh": "模型异常退出", "en": "the model crashed"},
    "overview.reason.invalid_output": {
        "zh": "输出不符合要求",
        "en": "its output is not valid",
    },
    "overview.reason.sandbox_violation": {
        "zh": "违反沙箱限制",
        "en": "it broke a sandbox rule",
    },
    "overview.reason.platform_fault": {
        "zh": "平台故障（非模型原因）",
        "en": "a platform fault (not the model's)",
    },
    "overview.exit_code": {
        "zh": "退出码 {code}",
        "en": "Exit code {code}",
    },
    "overview.detail": {
        "zh": "说明：{detail}",
        "en": "Detail: {detail}",
    },
    "overview.problems": {
        "zh": "不合格字段（次数）：{problems}",
        "en": "Fields that failed (count): {problems}",
    },
    "overview.refunded": {
        "zh": "该次提交已退还，不计入提交次数。",
        "en": "This submission was given back; it does not count against the quota.",
    },
    "overview.log_tail": {
        "zh": "日志最后 {lines} 行：",
        "en": "The last {lines} lines of the log:",
    },
    "overview.log_hidden": {
        "zh": "在隐藏测试集上的运行不显示日志；仅在调试阶段开放时，公开调试集上的运行显示日志。",
        "en": "A run on hidden test data never shows its log; only runs on a public debug set "
        "do, while the debug phase is open.",
    },
    # blacklist screening by hash, resumable (issue 10)
    "blacklist.not_found": {
        "zh": "没有编号为 {list} 的名单。",
        "en": "There is no list number {list}.",
    },
    "blacklist.unreadable": {
        "zh": "名单 {list}（SHA-256 {sha256}）的文件在文件库中缺失，或其内容已与哈希不符；"
        "未筛查任何队伍。恢复该文件后运行 huiyan blacklist resume。",
        "en": "The file of list {list} (SHA-256 {sha256}) is missing from the blob store or "
        "no longer matches its hash; no team was screened. Restore the file, then run "
        "huiyan blacklist resume.",
    },
    "blacklist.content_mismatch": {
        "zh": "所给条目与已存储的名单文件（SHA-256 {sha256}）不一致。",
        "en": "The entries given are not those of the stored list file (SHA-256 {sha256}).",
    },
    "blacklist.already_screened": {
        "zh": "队伍 {team} 已按名单 {list} 筛查过。",
        "en": "Team {team} has already been screened against list {list}.",
    },
    "blacklist.screening_incomplete": {
        "zh": "名单 {list} 的筛查尚有 {due} 支队伍未完成。",
        "en": "The screening against list {list} still has {due} teams to screen.",
    },
    # experts (issue 11, point 2)
    "expert.not_expert": {
        "zh": "账户 {account} 不是专家或仲裁员账户。",
        "en": "The account {account} is not an expert's or an arbitrator's account.",
    },
    "expert.not_enrolled": {
        "zh": "该专家尚未由组织方登记。",
        "en": "This expert has not been enrolled by the organiser.",
    },
    "expert.enrolled": {
        "zh": "账户 {account} 已登记为专家。",
        "en": "The account {account} is already enrolled as an expert.",
    },
    "expert.not_yours": {
        "zh": "专家只能为本人签署协议或申报利益冲突。",
        "en": "An expert signs and declares only for themselves.",
    },
    "expert.profile_incomplete": {
        "zh": "登记专家须写明其专业领域和所在单位。",
        "en": "An expert is enrolled with their fields and their organisations.",
    },
    "expert.agreement_missing": {
        "zh": "组织方尚未发布保密协议。",
        "en": "The organiser has not published a confidentiality agreement yet.",
    },
    "expert.agreement_unchanged": {
        "zh": "该保密协议已是第 {version} 版，无需重复发布。",
        "en": "This confidentiality agreement is already version {version}.",
    },
    "expert.agreement_not_current": {
        "zh": "保密协议 {sha256} 不是现行版本（现行版本 {current}）。",
        "en": "The agreement {sha256} is not the one in force ({current}).",
    },
    "judging.round_not_over": {
        "zh": "初赛至 {ends} 才结束，评审尚不能开始。",
        "en": "The preliminary round runs until {ends}; judging cannot start yet.",
    },
    "review.pseudonym_invalid": {
        "zh": "匿名编号 {pseudonym} 格式不对（应为 T<赛道>-<4 位十六进制>）。",
        "en": "The pseudonym {pseudonym} does not read T<track>-<4 hex digits>.",
    },
    "review.pseudonym_taken": {
        "zh": "匿名编号 {pseudonym} 已被使用。",
        "en": "The pseudonym {pseudonym} is already taken.",
    },
    "review.not_found": {
        "zh": "找不到评审 {review}。",
        "en": "There is no review {review}.",
    },
    "review.report_not_clean": {
        "zh": "{pseudonym} 的技术报告尚未通过匿名检查，不能分配给专家。",
        "en": "The report of {pseudonym} has not passed the anonymity check; no expert gets it.",
    },
    "review.report_not_held": {
        "zh": "赛道 {track} 的技术报告未被要求更换。",
        "en": "The report in track {track} was not held back; there is nothing to replace.",
    },
    "review.already_assigned": {
        "zh": "{pseudonym} 第 {round} 轮评审已分配专家。",
        "en": "Experts are already assigned to round {round} of {pseudonym}.",
    },
    "review.not_assigned": {
        "zh": "{pseudonym} 未分配给您评审。",
        "en": "{pseudonym} is not assigned to you.",
    },
    "review.already_scored": {
        "zh": "您已为 {pseudonym} 本轮评审打分。",
        "en": "You have already scored {pseudonym} in this round.",
    },
    "review.rubric_mismatch": {
        "zh": "评分表须且只须对以下维度打分：{dimensions}。",
        "en": "A score sheet grades exactly these dimensions: {dimensions}.",
    },
    "review.grade_not_level": {
        "zh": "维度 {dimension} 的等级 {grade} 不是公布的等级（{levels}）。",
        "en": "The grade {grade} for {dimension} is not a published level ({levels}).",
    },
    "review.conflict": {
        "zh": "存在利益冲突，不能评审 {pseudonym}：{reason}。",
        "en": "A conflict of interest bars you from {pseudonym}: {reason}.",
    },
    "results.reviews_incomplete": {
        "zh": "赛道 {track} 尚有 {count} 份评审未完成。",
        "en": "Track {track} still has {count} reviews without every expert score.",
    },
    "results.mode_unknown": {
        "zh": "排行榜模式 {mode} 不存在（可选：{modes}）。",
        "en": "There is no leaderboard mode {mode} (choose from {modes}).",
    },
    "results.not_published": {
        "zh": "赛道 {track} 的成绩尚未公布。",
        "en": "The results of track {track} are not published yet.",
    },
    "appeal.item": {
        "zh": "不能对评分项 {item} 提出申诉（可申诉：{items}）。",
        "en": "The score item {item} cannot be appealed (appealable: {items}).",
    },
    "appeal.window_closed": {
        "zh": "申诉期已于 {closed} 结束。",
        "en": "The appeal window closed at {closed}.",
    },
    "appeal.exists": {
        "zh": "赛道 {track} 的评分项 {item} 已有申诉。",
        "en": "There is already an appeal against {item} in track {track}.",
    },
    "appeal.not_found": {
        "zh": "找不到申诉 {appeal}。",
        "en": "There is no appeal {appeal}.",
    },
    "appeal.nothing_scored": {
        "zh": "赛道 {track} 没有可申诉的已评分提交。",
        "en": "Track {track} has no scored submission of yours to appeal against.",
    },
    "appeal.not_yours": {
        "zh": "您不是申诉 {appeal} 的仲裁员。",
        "en": "You are not an arbitrator of the appeal {appeal}.",
    },
    "appeal.not_open": {
        "zh": "申诉 {appeal} 当前状态为 {status}，不能裁决。",
        "en": "The appeal {appeal} is {status}; it cannot be ruled on now.",
    },
    "appeal.outcome_unknown": {
        "zh": "裁决结果 {outcome} 不存在（可选：{outcomes}）。",
        "en": "There is no ruling outcome {outcome} (choose from {outcomes}).",
    },
    "appeal.remedy_not_allowed": {
        "zh": "规则不允许补救措施 {remedy}（允许：{remedies}）。",
        "en": "The rules do not allow the remedy {remedy} (allowed: {remedies}).",
    },
    "appeal.remedy_invalid": {
        "zh": "补救措施不完整：{detail}。",
        "en": "The remedy is incomplete: {detail}.",
    },
    "appeal.remedy_not_pending": {
        "zh": "申诉 {appeal} 没有待执行的补救措施 {remedy}。",
        "en": "The appeal {appeal} has no pending remedy {remedy}.",
    },
    "final.already_advanced": {
        "zh": "赛道 {track} 的决赛名单已经公布。",
        "en": "The finalists of track {track} are already named.",
    },
    "final.too_many": {
        "zh": "每个赛道最多 {limit} 支队伍进入决赛。",
        "en": "At most {limit} teams per track advance to the final.",
    },
    "final.gate_failed": {
        "zh": "队伍 {team} 未通过门槛检测，不能进入决赛。",
        "en": "The team {team} failed a gate and cannot advance.",
    },
    "final.not_advanced": {
        "zh": "队伍 {team} 未进入赛道 {track} 决赛。",
        "en": "The team {team} is not a finalist of track {track}.",
    },
    "final.score_invalid": {
        "zh": "决赛评分无效：{detail}。",
        "en": "The final-round score is unusable: {detail}.",
    },
    "final.already_scored": {
        "zh": "您已为队伍 {team} 的决赛打分。",
        "en": "You have already scored the team {team} in the final.",
    },
    "final.unscored": {
        "zh": "队伍 {team} 尚无决赛评分。",
        "en": "The team {team} has no final-round score yet.",
    },
    "final.already_awarded": {
        "zh": "赛道 {track} 的奖项已经颁发。",
        "en": "The awards of track {track} are already given.",
    },
    "submission.status_forbids": {
        "zh": "提交处于 {status} 状态，不能{action}。",
        "en": "The submission is {status}; it cannot {action}.",
    },
    # retention and crypto-shredding
    "retention.registration_open": {
        "zh": "报名或修改报名信息在 {deadline} 前仍可进行，身份哈希密钥仍需保留。",
        "en": "Registrations may be made or changed until {deadline}; the identity secret is "
        "still needed.",
    },
    "retention.reviews_pending": {
        "zh": "仍有 {count} 个报名等待审核，身份哈希密钥仍需保留。",
        "en": "{count} registration(s) still await review; the identity secret is still needed.",
    },
    "retention.screening_unfinished": {
        "zh": "黑名单 {lists} 的筛查尚未完成（请先执行 huiyan blacklist resume）。",
        "en": "The screening against blacklist {lists} is unfinished (run huiyan blacklist "
        "resume first).",
    },
    "retention.not_due": {
        "zh": "{kind} 须保存至 {due}。",
        "en": "The {kind} are kept until {due}.",
    },
    "retention.store_kind": {
        "zh": "没有 {kind} 这类存储文件（可选：{kinds}）。",
        "en": "There is no kind of stored file {kind} (one of {kinds}).",
    },
    "retention.already": {
        "zh": "{what} 已于 {at} 销毁。",
        "en": "{what} was already destroyed at {at}.",
    },
    "retention.contest_not_over": {
        "zh": "赛事在 {final_end} 决赛结束后才关闭。",
        "en": "The contest closes when its final ends, at {final_end}.",
    },
    "retention.appeals_open": {
        "zh": "仍有 {count} 件申诉未结，赛事尚未关闭。",
        "en": "{count} appeal(s) are still open; the contest has not closed.",
    },
    # announcements (公告)
    "announcement.not_found": {
        "zh": "找不到公告 {announcement}。",
        "en": "There is no announcement {announcement}.",
    },
    "announcement.text_missing": {
        "zh": "公告须有中英文标题和正文（缺少 {field}）。",
        "en": "An announcement needs a title and a body in Chinese and English ({field} is "
        "missing).",
    },
    "announcement.unchanged": {
        "zh": "该内容与第 {version} 版相同。",
        "en": "This text is the same as version {version}.",
    },
    "announcement.withdrawn": {
        "zh": "该公告已于 {at} 撤回，不能再修改。",
        "en": "The announcement was withdrawn at {at}; it can no longer change.",
    },
}
