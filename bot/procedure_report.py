"""The staff report: every procedure as a resident meets it (`python -m bot.procedures report`).

A city reviews the wording here: first a list of every procedure with whether this city takes it
online (`online_services` in config/city.yml), then each opening exactly as sent (with its buttons),
each step with its plainer wording, choices and known problems, and each ending, for every device branch.
"""

from __future__ import annotations

from dataclasses import replace

from bot.city import load_city
from bot.glossary import load_glossary
from bot.guide import PROCEDURE_ENTITY, Guide, GuideState
from bot.procedures import CHOICE_END, CHOICE_NEXT, DEVICES, load_catalog
from bot.wording import load_wording


def report(device: str | None = None) -> str:
    """Every procedure as a resident meets it, for staff to review the wording: opening, steps, endings."""
    city = load_city()
    online = replace(city, online_services=dict.fromkeys(city.online_services, True))
    guide = Guide(load_catalog(), online, load_glossary(), load_wording())
    lines = ["# 手続きの一覧(この市がネットで受けるか)", ""]
    for procedure in guide.catalog.values():
        offered = (
            "—"
            if procedure.city_key is None
            else ("ネット可" if city.online_services.get(procedure.city_key) else "窓口のみ")
        )
        where = f"{procedure.area or '-'} / {procedure.intent}" + (
            f" / flow {procedure.flow}" if procedure.flow else ""
        )
        lines.append(f"- {offered}  {procedure.title}  ({procedure.id}.yml; {where})")
    lines += [
        "",
        "(— はネット申請の設定がない手続きです。窓口のみの手続きは、窓口と受付時間、持ち物を案内します。)",
        "",
    ]
    for procedure in guide.catalog.values():
        lines += [f"# {procedure.title}  ({procedure.id}.yml)", ""]
        devices: tuple[str | None, ...] = DEVICES if procedure.asks_device else (None,)
        for each in devices if device is None else (device,):
            where = f" — {each}" if each else ""
            state = GuideState(device=each)
            turn = guide.respond(state, procedure.intent, {PROCEDURE_ENTITY: procedure.id})
            lines.append(f"## Opening{where} (as the resident reads it; buttons in [ ])")
            lines += [f"> {text}".replace("\n", "\n> ") for text in map(guide.text_of, turn.replies)]
            lines += ["[" + " | ".join(reply.title for reply in turn.quick_replies) + "]", ""]
            for number, step in enumerate(procedure.steps_for(each), start=1):
                lines.append(f"{number}. {step.instruction(each)}  ({step.id})")
                lines.append(f"   わからないとき: {step.plainer(each)}")
                for choice in step.choices:
                    goes = {CHOICE_NEXT: "次の手順へ", CHOICE_END: "案内を終える"}.get(choice.then, f"{choice.then} へ")
                    lines.append(f"   選択「{choice.label}」→ {goes}" + (f": {choice.reply}" if choice.reply else ""))
                for problem in step.problems:
                    lines.append(f"   できないとき: {problem.cause} → {problem.fix}")
            ending = procedure.ending_for(each)
            lines += [f"   おわり: {ending.summary} {ending.next}", ""]
        if procedure.bring:
            lines.append(f"窓口に持っていくもの: {'、'.join(procedure.bring)}")
        lines += [f"help: {', '.join(procedure.help)} / checked {procedure.checked}", ""]
    return "\n".join(lines)
