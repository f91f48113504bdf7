"""The words of each in-site message (domain/inbox.py) in Chinese and English.

A plain dict, as the domain errors' texts are (domain/messages.py): a message is written in
its recipient's language, which is not the language of the page or process that writes it (the
mailer has no page at all), and the texts are few.
"""

from __future__ import annotations

from typing import Any

from domain.inbox import (
    APPEAL_RULED,
    APPROVED,
    DEFAULT_LANGUAGE,
    DOCUMENTS_CALLED,
    REJECTED,
    RESULTS_PUBLISHED,
    RUN_FAILED,
    SCORED,
    SCORING_FAILED,
    Message,
)

# kind -> language -> (subject, body); the body's {placeholders} are the message's facts.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    APPROVED: {
        "zh": ("报名审核通过", "贵团队的报名已审核通过。{reason_zh}"),
        "en": ("Registration approved", "Your team's registration was approved.{reason_en}"),
    },
    REJECTED: {
        "zh": ("报名审核未通过", "贵团队的报名未通过审核。原因：{reason}\n请修改后重新提交。"),
        "en": (
            "Registration rejected",
            "Your team's registration was rejected. Reason: {reason}\n"
            "Change it and submit it again.",
        ),
    },
    DOCUMENTS_CALLED: {
        "zh": ("请上传报名材料", "主办方已通知上传以下材料，请在初赛开始前上传：{kinds}。"),
        "en": (
            "Registration letters called for",
            "The organisers ask for these documents before the preliminary round starts: {kinds}.",
        ),
    },
    SCORED: {
        "zh": (
            "赛道 {track} 的提交已评分",
            "提交 {submission} 已完成评分：{metric} = {value}；准入门槛{gates_zh}。",
        ),
        "en": (
            "Track {track}: your submission was scored",
            "Submission {submission} was scored: {metric} = {value}; the gates were {gates_en}.",
        ),
    },
    RUN_FAILED: {
        "zh": (
            "赛道 {track} 的提交运行失败",
            "提交 {submission} 运行失败，原因：{reason}。\n{detail}",
        ),
        "en": (
            "Track {track}: your submission's run failed",
            "Submission {submission} failed: {reason}.\n{detail}",
        ),
    },
    SCORING_FAILED: {
        "zh": (
            "赛道 {track} 的提交评分未完成",
            "提交 {submission} 的评分因平台原因未能完成，主办方将处理，无需重新提交。",
        ),
        "en": (
            "Track {track}: your submission could not be scored",
            "Submission {submission} could not be scored through a fault of the platform; the "
            "organisers will see to it, you need not submit again.",
        ),
    },
    RESULTS_PUBLISHED: {
        "zh": ("赛道 {track} 成绩已公布", "赛道 {track} 第 {number} 次成绩公布（{mode_zh}）。"),
        "en": (
            "Track {track}: results published",
            "The results of track {track} were published (publication {number}, {mode_en}).",
        ),
    },
    APPEAL_RULED: {
        "zh": (
            "申诉已裁决",
            "贵团队对赛道 {track} 的 {item} 提出的申诉已裁决：{outcome_zh}。裁决理由见申诉详情。",
        ),
        "en": (
            "Your appeal was ruled",
            "Your appeal on {item} in track {track} was ruled: {outcome_en}. The reasons are "
            "in the appeal's file.",
        ),
    },
}

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "commitment_letter": "承诺书",
        "ip_compliance_statement": "知识产权合规声明",
        "technical_letter_of_intent": "技术意向书",
        "passed": "已通过",
        "failed": "未通过",
        "hidden": "隐藏分数",
        "ranks": "仅公布名次",
        "full": "完整公布",
        "dismissed": "驳回",
        "upheld": "支持申诉",
    },
    "en": {
        "commitment_letter": "commitment letter",
        "ip_compliance_statement": "IP compliance statement",
        "technical_letter_of_intent": "technical letter of intent",
        "passed": "passed",
        "failed": "not passed",
        "hidden": "scores hidden",
        "ranks": "ranks only",
        "full": "in full",
        "dismissed": "dismissed",
        "upheld": "upheld",
    },
}


def language_of(language: str | None) -> str:
    return language if language in TEXTS[APPROVED] else DEFAULT_LANGUAGE


def render(message: Message, language: str | None) -> tuple[str, str]:
    """The message's subject and body in ``language`` (Chinese when it has none)."""
    language = language_of(language)
    subject, body = TEXTS[message.kind][language]
    facts = _facts(message.facts, language)
    return subject.format(**facts), body.format(**facts).strip()


def _facts(facts: dict[str, Any], language: str) -> dict[str, Any]:
    words = _WORDS[language]
    said = {key: ("" if value is None else value) for key, value in facts.items()}
    reason = facts.get("reason") or ""
    if "kinds" in facts:
        said["kinds"] = ("、" if language == "zh" else ", ").join(
            words.get(kind, kind) for kind in facts["kinds"]
        )
    said["reason_zh"] = f"说明：{reason}" if reason else ""
    said["reason_en"] = f" Note: {reason}" if reason else ""
    gates = "passed" if facts.get("gates_passed") else "failed"
    for lang in ("zh", "en"):
        said[f"gates_{lang}"] = _WORDS[lang][gates]
        said[f"mode_{lang}"] = _WORDS[lang].get(facts.get("mode") or "", facts.get("mode") or "")
        outcome = facts.get("outcome") or ""
        said[f"outcome_{lang}"] = _WORDS[lang].get(outcome, outcome)
    return said
