# ruff: noqa: E501  (translated prose: long lines and non-English punctuation are the content)
"""Writes the team's DRAFT translations of the safety-critical strings into content/strings/<locale>.yaml.

Run once to (re)create the files with the current English source hashes; a translator then edits the YAML
(or the PO file from `ourvoice content translations export`) and marks entries reviewed. Kept so the drafts
are reproducible and their origin is plain: written by the ourvoice team, not by a qualified translator.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content.translations import source_hash  # noqa: E402

DRAFTS: dict[str, dict[str, str]] = {
    "ar": {
        "safe_reply": "شكراً لأنك أخبرتني. ما قلته مهم، وسيقرأه شخص من فريقنا {when}. قد نحتاج أن نخبر أشخاصاً يستطيعون حمايتك، وسنخبرك إذا فعلنا. إذا كنت في خطر الآن، اتصل بـ {emergency}. يمكنك التحدث مع Childline مجاناً على {childline}، أو الاتصال بـ {duty_team} على {duty_number} (خارج أوقات الدوام: {out_of_hours}). يمكنك أن تطلب مترجماً: اكتب «مترجم».",
        "safe_when_office": "خلال {minutes} دقيقة تقريباً",
        "safe_when_out_of_hours": "عندما يكون أحد في الدوام (عادةً خلال {minutes} دقيقة)",
        "safe_reply_short": "شكراً على رسالتك. سيقرأها شخص من فريقنا قريباً. إذا كنت في خطر الآن، اتصل بـ {emergency}. يمكنك أن تطلب مترجماً.",
    },
    "ps": {
        "safe_reply": "مننه چې راته دې وویل. ستا خبره مهمه ده، او زموږ د ټیم یو کس به یې {when} ولولي. کېدای شي دا له هغو خلکو سره شریکه کړو چې ستا ساتنه کولی شي، او که داسې وکړو تاته به ووایو. که همدا اوس په خطر کې یې، {emergency} ته زنګ ووهه. Childline ته وړیا په {childline} زنګ وهلی شې، یا {duty_team} ته په {duty_number} (د دفتر له وخت بهر {out_of_hours}). ژباړونکی غوښتلی شې: «ژباړونکی» ولیکه.",
        "safe_when_office": "په شاوخوا {minutes} دقیقو کې",
        "safe_when_out_of_hours": "کله چې یو څوک په دنده وي (معمولاً په {minutes} دقیقو کې)",
        "safe_reply_short": "د پیغام مننه. زموږ د ټیم یو کس به یې ژر ولولي. که همدا اوس په خطر کې یې، {emergency} ته زنګ ووهه. ژباړونکی غوښتلی شې.",
    },
    "fa-AF": {
        "safe_reply": "تشکر که به من گفتی. گپ تو مهم است و یک نفر از تیم ما آن را {when} می‌خواند. شاید لازم باشد آن را با کسانی که می‌توانند از تو محافظت کنند شریک کنیم، و اگر چنین کنیم به تو می‌گوییم. اگر همین حالا در خطر هستی، به {emergency} زنگ بزن. می‌توانی رایگان با Childline به شماره {childline} گپ بزنی، یا به {duty_team} به شماره {duty_number} زنگ بزنی (بیرون از وقت کاری: {out_of_hours}). می‌توانی ترجمان بخواهی: بنویس «ترجمان».",
        "safe_when_office": "در حدود {minutes} دقیقه",
        "safe_when_out_of_hours": "وقتی کسی سر کار باشد (معمولاً در {minutes} دقیقه)",
        "safe_reply_short": "تشکر از پیامت. یک نفر از تیم ما به زودی آن را می‌خواند. اگر همین حالا در خطر هستی، به {emergency} زنگ بزن. می‌توانی ترجمان بخواهی.",
    },
    "ckb": {
        "safe_reply": "سوپاس کە پێت گوتم. ئەوەی گوتت گرنگە، و کەسێک لە تیمەکەمان {when} دەیخوێنێتەوە. لەوانەیە پێویست بێت بە کەسانێکی بڵێین کە دەتوانن پارێزگاریت لێ بکەن، و ئەگەر وامان کرد پێت دەڵێین. ئەگەر ئێستا لە مەترسیدایت، پەیوەندی بە {emergency} بکە. دەتوانیت بە خۆڕایی لەگەڵ Childline قسە بکەیت لەسەر {childline}، یان پەیوەندی بە {duty_team} بکەیت لەسەر {duty_number} (دەرەوەی کاتی کار: {out_of_hours}). دەتوانیت وەرگێڕ داوا بکەیت: بنووسە «وەرگێڕ».",
        "safe_when_office": "لە ماوەی نزیکەی {minutes} خولەکدا",
        "safe_when_out_of_hours": "کاتێک کەسێک لە کاردا بێت (زۆرجار لە ماوەی {minutes} خولەکدا)",
        "safe_reply_short": "سوپاس بۆ نامەکەت. کەسێک لە تیمەکەمان بەم زووانە دەیخوێنێتەوە. ئەگەر ئێستا لە مەترسیدایت، پەیوەندی بە {emergency} بکە. دەتوانیت وەرگێڕ داوا بکەیت.",
    },
    "ti": {
        "safe_reply": "ስለ ዝነገርካኒ የቐንየለይ። ዝበልካዮ ኣገዳሲ እዩ፣ ሓደ ካብ ጉጅለና {when} ከንብቦ እዩ። ክሕልዉኻ ንዝኽእሉ ሰባት ክንነግር ንኽእል ኢና፣ እንተ ገበርና ክንነግረካ ኢና። ሕጂ ኣብ ሓደጋ እንተሎኻ፣ ናብ {emergency} ደውል። ብናጻ ምስ Childline ኣብ {childline} ክትዛረብ ትኽእል ኢኻ፣ ወይ ድማ ናብ {duty_team} ኣብ {duty_number} ደውል (ካብ ሰዓት ስራሕ ወጻኢ: {out_of_hours})። ተርጓሚ ክትሓትት ትኽእል ኢኻ: «ተርጓሚ» ጽሓፍ።",
        "safe_when_office": "ኣብ ውሽጢ ኣስታት {minutes} ደቒቕ",
        "safe_when_out_of_hours": "ሓደ ሰብ ኣብ ስራሕ ምስ ዝህሉ (ብዙሕ ግዜ ኣብ ውሽጢ {minutes} ደቒቕ)",
        "safe_reply_short": "ስለ መልእኽትኻ የቐንየለይ። ሓደ ካብ ጉጅለና ቀልጢፉ ከንብቦ እዩ። ሕጂ ኣብ ሓደጋ እንተሎኻ፣ ናብ {emergency} ደውል። ተርጓሚ ክትሓትት ትኽእል ኢኻ።",
    },
    "sq": {
        "safe_reply": "Faleminderit që më tregove. Ajo që the ka rëndësi, dhe një person nga ekipi ynë do ta lexojë {when}. Mund të na duhet t'ua tregojmë njerëzve që mund të të mbrojnë, dhe do të të themi nëse e bëjmë. Nëse je në rrezik tani, telefono {emergency}. Mund të flasësh falas me Childline në {childline}, ose telefono {duty_team} në {duty_number} (jashtë orarit: {out_of_hours}). Mund të kërkosh përkthyes: shkruaj «përkthyes».",
        "safe_when_office": "brenda rreth {minutes} minutash",
        "safe_when_out_of_hours": "sapo të jetë dikush në detyrë (zakonisht brenda {minutes} minutash)",
        "safe_reply_short": "Faleminderit për mesazhin. Një person nga ekipi ynë do ta lexojë së shpejti. Nëse je në rrezik tani, telefono {emergency}. Mund të kërkosh përkthyes.",
    },
    "vi": {
        "safe_reply": "Cảm ơn bạn đã kể cho mình. Điều bạn nói rất quan trọng, và một người trong nhóm của chúng tôi sẽ đọc {when}. Có thể chúng tôi cần báo cho những người có thể giữ an toàn cho bạn, và chúng tôi sẽ cho bạn biết nếu làm vậy. Nếu bạn đang gặp nguy hiểm ngay bây giờ, hãy gọi {emergency}. Bạn có thể nói chuyện miễn phí với Childline qua số {childline}, hoặc gọi {duty_team} theo số {duty_number} (ngoài giờ làm việc: {out_of_hours}). Bạn có thể yêu cầu phiên dịch viên: hãy viết «phiên dịch».",
        "safe_when_office": "trong khoảng {minutes} phút",
        "safe_when_out_of_hours": "ngay khi có người trực (thường trong vòng {minutes} phút)",
        "safe_reply_short": "Cảm ơn tin nhắn của bạn. Một người trong nhóm của chúng tôi sẽ sớm đọc. Nếu bạn đang gặp nguy hiểm ngay bây giờ, hãy gọi {emergency}. Bạn có thể yêu cầu phiên dịch viên.",
    },
}


def _entry(text: str, english: object) -> dict[str, object]:
    return {
        "text": {"default": text}, "status": "draft", "source": source_hash(english),  # type: ignore[arg-type]
        "translator": "ourvoice team (draft, not a qualified translator)",
    }


def flows(english_strings: dict[str, object]) -> None:
    """Flow and extra string drafts from tools/translation_drafts/<locale>.yaml (onboarding, menu, privacy
    notice, "I need help now", one topic) into content/translations/<locale>/<flow>.yaml."""
    from content.loader import load_library
    from content.localise import flow_texts

    lib = load_library()
    for path in sorted((ROOT / "tools" / "translation_drafts").glob("*.yaml")):
        locale = path.stem
        drafts = yaml.safe_load(path.read_text(encoding="utf-8"))
        DRAFTS.setdefault(locale, {}).update(drafts.pop("strings", {}))
        for flow_id, texts in drafts.items():
            english = flow_texts(lib.flows[flow_id])
            out = ROOT / "content" / "translations" / locale / f"{flow_id}.yaml"
            old = yaml.safe_load(out.read_text(encoding="utf-8")) if out.exists() else {}
            entries = dict((old or {}).get("entries") or {})
            for key, text in texts.items():
                if key not in english:
                    raise SystemExit(f"{path}: {flow_id} has no {key!r}")
                if entries.get(key, {}).get("status") == "reviewed":
                    continue
                entries[key] = _entry(text, english[key])
            out.parent.mkdir(parents=True, exist_ok=True)
            head = f"# {locale}: translation of {flow_id}. Draft unless marked reviewed (issue 24).\n"
            body = yaml.safe_dump(
                {"schema_version": 1, "locale": locale, "flow": flow_id, "entries": entries},
                allow_unicode=True, sort_keys=False, width=1000,
            )
            out.write_text(head + body, encoding="utf-8")


def main() -> None:
    english = yaml.safe_load((ROOT / "content" / "strings" / "en.yaml").read_text(encoding="utf-8"))["messages"]
    flows(english)
    for locale, texts in DRAFTS.items():
        path = ROOT / "content" / "strings" / f"{locale}.yaml"
        old = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {"messages": {}}
        messages = dict(old.get("messages") or {})
        for key, text in texts.items():
            if key in messages and messages[key].get("status") == "reviewed":
                continue  # never overwrite a reviewed translation
            messages[key] = _entry(text, english[key])
        head = f"# {locale}: translations of content/strings/en.yaml. Draft unless marked reviewed (issue 24).\n"
        body = yaml.safe_dump(
            {"schema_version": 1, "locale": locale, "messages": messages}, allow_unicode=True, sort_keys=False,
            width=1000,
        )
        path.write_text(head + body, encoding="utf-8")


if __name__ == "__main__":
    main()
