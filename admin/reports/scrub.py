"""Scrub free text before it can become a quote: names, schools, places, contact details, dates, numbers.

Errs on the side of removing too much; staff approval is the second check. Pure (no I/O), and never
logs the text it is given.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from admin.reports import name_lists

NAME, SCHOOL, PLACE, DATE, NUMBER, PHONE, EMAIL, LINK, HANDLE = (
    "[name]",
    "[school]",
    "[place]",
    "[date]",
    "[number]",
    "[phone]",
    "[email]",
    "[link]",
    "[handle]",
)
DATA = Path(__file__).resolve().parents[2] / "content" / "scrub"  # gazetteer and names, kept as data


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common first names (UK children and young people, several heritages). Those that are also
# ordinary words are matched only when capitalised (see _WORDLIKE_NAMES).
_NAMES = _words(
    """
    aaliyah aaron abdul abdullah abigail adam adrian ahmad ahmed aidan aiden aisha alex alexander
    alexandra alfie ali alice alicia amara amelia amir amira amy andrea andrew angela anna annabelle
    archie aria arlo arthur ashley austin ava ayesha bailey beatrice bella ben benjamin beth bethany
    billy blake bobby brandon brooke caleb callum cameron carl carly caroline casey charlie charlotte
    chloe chris christopher ciara connor corey courtney daisy dan daniel danielle darcy darren david
    dawid declan demi dexter dominic dylan eden edward eleanor elijah eliza elizabeth ella ellie elliot
    elsie emilia emily emma eric erin ethan eva evelyn evie ewan faisal farah fatima finlay finley finn
    florence francesca freddie freya gabriel gemma george georgia gracie hamza hannah harley harper
    harriet harrison harvey hassan hayden heidi henry hollie hussain ibrahim imogen isaac isabel
    isabella isabelle isla ismail isobel jacob jake james jamie jasmine jason jayden jenna jennifer
    jessica jodie joe joel john jonathan jordan joseph joshua jude julia justin kacper kai kasia katie
    kayden kayla kelly kerry kian kieran kyle lacey laura lauren layla leah leighton leo leon lewis liam
    libby lily lincoln logan lola louie louis lucas lucy luke lydia maddison madison maisie maja maria
    mariam marie martha mary maryam mason matilda matthew megan mia michael millie mohammad mohammed
    molly muhammad musa nadia naomi nathan neil nicole niamh noah olivia oliver ollie omar oscar owen
    paige patrick paul penelope phoebe rachel rebecca reece reuben rhys riley robert rory rosie ryan
    sadie samantha samuel sara sarah scarlett sean sebastian shannon sienna simon sofia sophia sophie
    stanley stephen steven susan szymon tariq taylor teddy theo theodore thomas tia tilly toby
    tom tommy tyler usman victoria wiktoria william willow yasmin yusuf zac zach zachary zainab zara zoe
    zofia
    """
)
_WORDLIKE_NAMES = _words(
    """
    grace hope faith joy rose lily poppy ruby holly ivy jade amber violet autumn april may june will
    summer rich
    mark jack bill frank max bob pat sue dawn sky river rocky sunny angel star reggie harry rob sam
    """
)

def _data_names() -> frozenset[str]:
    path = DATA / "names.txt"
    if not path.exists():
        return frozenset()
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    return frozenset(w.lower() for ln in lines for w in ln.split())


def _gazetteer() -> tuple[list[str], list[str]]:
    path = DATA / "places.yaml"
    if not path.exists():
        return [], []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [str(p).lower() for p in data.get("places", [])], [str(p).lower() for p in data.get("schools", [])]


_EXTRA_NAMES = _data_names()
_GAZ_PLACES, _GAZ_SCHOOLS = _gazetteer()

# Kent towns, villages and districts, plus Medway and a few nearby cities.
_PLACES = _words(
    """
    ashford aylesford birchington bluewater broadstairs canterbury chatham cliftonville cranbrook
    dartford dover ebbsfleet edenbridge faversham folkestone gillingham gravesend gravesham greenhithe
    hawkhurst headcorn hersden hythe iwade kingsnorth larkfield leysdown lydd maidstone margate medway
    northfleet queenborough rainham ramsgate rochester sevenoaks sheerness sheppey sittingbourne
    snodland staplehurst strood sturry swale swanley swanscombe tenterden thanet tonbridge walmer
    westerham westgate whitstable teynham eastchurch seasalter reculver kent london croydon bromley
    bexley dartmouth
    """
)
_MULTI_PLACES = [
    "tunbridge wells",
    "royal tunbridge wells",
    "herne bay",
    "west malling",
    "paddock wood",
    "new romney",
    "romney marsh",
    "isle of sheppey",
    "west farleigh",
    "isle of thanet",
    "st margaret's at cliffe",
    "east malling",
    "kings hill",
    "high halstow",
    "hoo peninsula",
]
_WORDLIKE_PLACES = {
    "deal",
    "sandwich",
    "minster",
    "wye",
    "marden",
    "herne",
    "halfway",
    "hoo",
    "borough green",
}

# Capitalised words that are not names: sentence openers, family words, days, months, things.
_COMMON = _words(
    """
    i i'm i've i'd i'll a an the and but or so if when then because my our your their his her its we you
    they he she it this that these those there here what who why how where which everyone everybody
    someone somebody nobody nothing something anything everything all some most many more no not yes
    yeah ok okay please thanks thank hi hello dear mum mom dad nan nana nanny grandad grandma granny
    auntie uncle carer carers foster social worker workers teacher teachers school home monday tuesday
    wednesday thursday friday saturday sunday christmas easter eid diwali halloween birthday english
    maths science council panel councillors ocypc yac mr mrs ms miss also just really very being having
    sometimes always never often maybe because it's that's there's they're we're you're don't can't
    won't didn't doesn't isn't wasn't people person kids children young adults life family friends
    friend things stuff lots bit time day days week weeks month months year years good bad great nice
    kind fun happy sad better best worse worst more less love like feel felt think thought know knew
    want wanted need needed help helped make made let get got give gave go went come came see saw say
    said tell told ask asked listen listened talk talked try tried keep kept look looked one two three
    first last next new old other same different own only even still again after before during while
    until since about above below over under between into through with without within for from of on in
    at by to up down out off as is are was were be been am do does did have has had will would can could
    should shall might must may wish hope north south east west
    """
)


def _not_names() -> frozenset[str]:
    """Brands, services and the care system's words (content/scrub/not_names.txt): capitalised, still not names."""
    path = DATA / "not_names.txt"
    if not path.exists():
        return frozenset()
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    return frozenset(w.lower() for ln in lines for w in ln.split())


_COMMON = _COMMON | _not_names()

_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Auntie|Aunty|Uncle|Nan|Nana)"
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Words that are ordinary lower-case but part of a school's name when capitalised ("Oak Primary School").
_SCHOOL_KINDS = {
    "primary",
    "secondary",
    "junior",
    "infant",
    "high",
    "grammar",
    "special",
    "community",
    "new",
    "old",
}
_STOP_BEFORE = {
    "my",
    "the",
    "a",
    "an",
    "our",
    "their",
    "his",
    "her",
    "your",
    "new",
    "old",
    "at",
    "to",
    "in",
    "from",
    "this",
    "that",
    "big",
    "local",
    "secondary",
    "primary",
    "junior",
    "infant",
    "high",
    "special",
    "same",
    "different",
    "other",
    "another",
    "boarding",
    "night",
    "sixth",
    "form",
    "went",
    "go",
    "going",
    "of",
    "and",
    "i",
    "we",
    "love",
    "like",
    "hate",
    "nearest",
    "down",
    "up",
    "whole",
    "each",
    "every",
    "busy",
    "main",
}

_NUM_WORD = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|double|triple|treble|\d)"
_DOT = r"\s*(?:\.|\(?\bdot\b\)?)\s*"
_AT = r"\s*(?:@|\(?\bat\b\)?|\[at\])\s*"
_SOCIAL = (
    r"(?:insta(?:gram)?|ig|snap(?:chat)?|tik\s?tok|twitter|discord|fb|facebook|youtube|yt|twitch|"
    r"threads|bereal|roblox|xbox|psn|steam|whatsapp|telegram|user\s?name|handle|gamertag)"
)
# Kent's postcode areas (ME, CT, TN, DA, BR) said letter by letter, for "tee en four" and the like.
_SPOKEN_LETTER = (r"(?:ay|a|bee|b|see|cee|sea|c|dee|d|ee|e|ef|eff|f|gee|g|aitch|haitch|h|eye|i|jay|j|kay|k|el|ell|l|"
                  r"em|m|en|n|oh|o|pee|p|cue|queue|q|ar|are|r|es|ess|s|tee|t|you|u|vee|v|double\s?you|w|ex|x|why|y|"
                  r"zed|zee|z)")
_SPOKEN_AREAS = (r"(?:em\s+ee|m\s+ee|em\s+e|(?:see|cee|sea|c)\s+tee|tee\s+en|t\s+en|tee\s+n|dee\s+ay|dee\s+a|"
                 r"bee\s+ar|bee\s+are)")
_SPOKEN_NUMBER = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                  r"sixteen|seventeen|eighteen|nineteen|twenty(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?)")
_RX = [
    # Handles spelled out: "lil underscore star", "jaz dot b".
    (re.compile(r"\b[\w]+(?:\s+(?:underscore|under score|dot|dash|hyphen)\s+[\w]+)+", re.I), HANDLE),
    # Emails, also written out: "jo dot smith at gmail dot com".
    (re.compile(rf"\b[\w.+-]+(?:{_DOT}[\w+-]+)*{_AT}[\w-]+(?:{_DOT}(?:com|co|uk|org|net|me|io|ac|gov|sch|nhs|"
                rf"[a-z]{{2,3}})\b)+", re.I), EMAIL),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), EMAIL),
    # Handles: "my insta is cool_kid99", "snap: xyz.abc", "@anything".
    (re.compile(
        rf"\b({_SOCIAL})\b((?:\s*(?:is|=|:|-|name is|handle is|me|me on|add me))?\s+|\s*[:=-]\s*)"
        r"(?!(?:is|are|was|were|in|on|at|the|and|or|a|an|my|with|for|to|of|account|games?|chat|live|all|too|"
        r"so|but|when|because|every|lol|then|and|is)\b)(?:@?[\w.'-]+)",
        re.I,
    ),
     rf"\1\2{HANDLE}"),
    (re.compile(r"@[\w.]{2,}"), HANDLE),
    # An address's provider said in words ("jaz at icloud", "at hotmail dot co dot uk").
    (re.compile(rf"(?:\b[\w.+-]+\s+)?(?:@|\bat\b|\(at\)|\[at\])\s*(?:g\s?mail|hotmail|icloud|outlook|yahoo|"
                rf"btinternet|aol|proton(?:mail)?|ymail|msn|virgin(?:media)?|talktalk)\b(?:{_DOT}[a-z]{{2,4}}\b)*",
                re.I), EMAIL),
    # Phone numbers written in words (or mixed): five or more digits' worth in a row.
    (re.compile(rf"\b{_NUM_WORD}(?:[\s,-]+{_NUM_WORD}){{4,}}\b", re.I), PHONE),
    (re.compile(r"\b(?:https?://|www\.)\S+", re.I), LINK),
    (re.compile(r"@\w{2,}"), NAME),
    (re.compile(r"(?:\+\s?44\s?\(?0?\)?|\b0)(?:[\s-]?\d){9,10}\b"), PHONE),
    (re.compile(r"\b\d{3,5}[\s-]\d{3,4}[\s-]?\d{0,4}\b"), PHONE),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I), PLACE),  # postcodes
    # Outward codes on their own: any in capitals ("CT9"), and Kent's in any case ("me14").
    (re.compile(r"\b[A-Z]{1,2}\d{1,2}[A-Z]?\b"), PLACE),
    (re.compile(r"\b(?:me|ct|tn|da|br)\d{1,2}\b", re.I), PLACE),
    # ... and said in words: "da eleven", "c t nine", "m e fourteen" (plain "me" is left alone: "give me two").
    (re.compile(r"\b(?:ct|tn|da|br|c\s?t|t\s?n|d\s?a|m\s+e)\s+"
                r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                r"sixteen|seventeen|eighteen|nineteen|twenty(?:[\s-]\w+)?)\b", re.I), PLACE),
    # ... or letter by letter: "tee en four", "see tee eleven one tee dee", "em ee fourteen".
    (re.compile(rf"\b(?:{_SPOKEN_AREAS})\s+(?:{_SPOKEN_NUMBER}|\d{{1,2}})\b"
                rf"(?:\s+(?:{_SPOKEN_NUMBER}|\d)\s+{_SPOKEN_LETTER}\s+{_SPOKEN_LETTER}\b)?", re.I), PLACE),
    (re.compile(r"\b[a-z\d]*_\w*\b|\b(?=[\d.]*[a-z])[a-z\d]{2,}(?:\.[a-z\d]{2,})+\b", re.I), HANDLE),  # a_b, x.yz
    (re.compile(r"\b[a-z]{2,}\d{2,}[a-z\d]*\b", re.I), HANDLE),  # jaydenxx07
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\b"), DATE),
    (re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b(?:,?\s+\d{{2,4}})?", re.I), DATE),
    (re.compile(rf"\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{2,4}})?", re.I), DATE),
    (re.compile(r"\b(?:19|20)\d{2}\b"), DATE),
    (re.compile(r"\b\d{1,2}(?:st|nd|rd|th)\b", re.I), DATE),
]

_INSTITUTION = re.compile(
    r"((?:[^\W\d_][\w'’.-]*\s+){1,4})(school|academy|college|university|uni|pru|nursery)\b", re.I
)
# Streets need a capitalised name before them ("Kings Road"), except words that are always streets.
_STREET = re.compile(
    r"((?:[A-Z][\w'’.-]*\s+){1,3})(Road|Rd|Street|Avenue|Ave|Lane|Close|Drive|Way|Crescent|Gardens|Place|"
    r"Hill|Park|Estate|Green|Court|Square|Terrace|Grove|Rise|Row|Walk|Mews|Parade)\b"
)
_STREET_LOWER = re.compile(r"((?:[^\W\d_][\w'’.-]*\s+){1,3})(road|street|avenue|lane|crescent)\b", re.I)
_SAINT = re.compile(r"\bSt\.?\s+[A-Z][\w'’]*(?:\s+(?:the\s+)?[A-Z][\w'’]*)?", re.U)
_TITLE_NAME = re.compile(rf"\b{_TITLES}\.?\s+[A-Z][\w'’-]*", re.U)
# The same in lower case ("mr smith", "mrs k"); "miss" only before a single letter or a known name, since
# "i miss home" is the verb.
_TITLE_LOWER = re.compile(r"\b(?:mr|mrs|ms|mx|dr|sir)\.?\s+(?!(?:and|or|is|was|the|a|to|at|in|said|says)\b)"
                          r"[^\W\d_][\w'’-]*", re.I | re.U)
_MISS_LETTER = re.compile(r"\bmiss\s+[a-z]\b\.?", re.I)
# Initials in lower case with dots ("k.m.", "j.b"), not e.g., i.e., a.m. or p.m.
_LOWER_INITIALS = re.compile(r"(?<![\w.\[])(?!(?:e\.g|i\.e|a\.m|p\.m|n\.b)\b)(?:[a-z]\.\s?){1,2}[a-z]\b\.?")
# A name said where a name goes: after "called", "named", "name is", or a person word ("my carer dave").
_NAME_CONTEXT = re.compile(
    r"\b(?:called|named|name(?:'s| is)|nicknamed|my (?:foster |key |support |social )?(?:carer|mum|dad|worker|sw|"
    r"keyworker|iro|pa|mentor|teacher|tutor|mate|best mate|friend|bestie|bf|gf|boyfriend|girlfriend|brother|"
    r"sister|cousin|nan|aunt|auntie|uncle)|foster (?:mum|dad|carer))\s+([^\W\d_][\w'’-]*)",
    re.I | re.U,
)
# Where a name goes after "me and", "me an", "mates with": an unknown lower-case word there is taken for a name.
_WITH_CONTEXT = re.compile(r"\b(?:me an(?:d)?|hanging out with|mates with|friends with)\s+([^\W\d_][\w'’-]*)",
                           re.I | re.U)
_STRONG_CONTEXT = re.compile(r"\b(?:called|named|name(?:'s| is)|nicknamed)\s+([^\W\d_][\w'’-]*)"
                             r"(?:\s+([^\W\d_][\w'’-]*))?", re.I | re.U)
# Two consonants in lower case, standing alone, are initials ("jb and me"), unless a common abbreviation.
_TWO_CONSONANTS = re.compile(r"(?<![\w\['’])(?!(?:bf|gf|sw|pe|ps|tv|pc|dj|mp|nb|pm|st|nd|rd|th|ft|hr|km|kg|ml|cm|mm|mr|"
                             r"ms|mx|dr|xx|xd|bc|cb|fr|rn|gg|hw|wk|yr|pb|pr|sc|ty|ly|dm|gp|lr|sk|ks)\b)"
                             r"[bcdfghjklmnpqrstvwxz]{2}(?![\w\]])")
_ESTATE = re.compile(r"((?:[^\W\d_][\w'’.-]*\s+){1,2})(estate|flats|towers|heights)\b", re.I)
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.U)
_SENTENCE_END = re.compile(r"[.!?\n:;\"“”()]\s*$")


def _keep_lead(words: str) -> tuple[str, str]:
    """Split the words before 'school'/'road' into ordinary words and the proper-name part next to it."""
    parts = words.split()
    k = len(parts)
    while k > 0:
        word = parts[k - 1]
        low = word.lower().strip("'’")
        if low in _STOP_BEFORE | _COMMON and not (word[0].isupper() and low in _SCHOOL_KINDS):
            break
        k -= 1
    lead = " ".join(parts[:k])
    return (lead + " " if lead else ""), " ".join(parts[k:])


def _institutions(text: str, rx: re.Pattern[str], label: str, *, plain_words_too: bool = True) -> str:
    """Replace a named school, street or estate, keeping the ordinary words before it. With
    `plain_words_too=False`, a "name" made only of everyday words ("a long road") is left alone."""
    def repl(m: re.Match[str]) -> str:
        lead, tail = _keep_lead(m.group(1))
        if not tail or (not plain_words_too and all(w.lower() in name_lists.everyday_words() for w in tail.split())):
            return m.group(0)
        if tail.islower() and all(w.strip("'’") in name_lists.ordinary_words() and not name_lists.is_first_name(w)
                                  for w in tail.split()):
            return m.group(0)
        return f"{lead}{label}"

    return rx.sub(repl, text)


def _alternation(words: Iterable[str]) -> str:
    """One regex alternative per word or phrase, longest first so "herne bay" wins over "herne"."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


@functools.cache
def _place_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The gazetteer as three compiled patterns (schools; places in any case; word-like places only when
    capitalised), built once: the gazetteer has hundreds of entries and a quote is scrubbed word by word."""
    schools = re.compile(rf"\b(?:{_alternation(_GAZ_SCHOOLS)})\b(?:\s+(?:school|academy|college|grammar|primary|"
                         r"high))*", re.I) if _GAZ_SCHOOLS else re.compile(r"(?!)")
    places = re.compile(rf"\b(?:{_alternation((set(_GAZ_PLACES) - _WORDLIKE_PLACES) | set(_MULTI_PLACES) | _PLACES)})"
                        r"\b", re.I)
    wordlike = re.compile(rf"\b(?:{_alternation(p.title() for p in _WORDLIKE_PLACES)})\b")
    return schools, places, wordlike


def _places(text: str) -> str:
    schools, places, wordlike = _place_patterns()
    return wordlike.sub(PLACE, places.sub(PLACE, schools.sub(SCHOOL, text)))


def _names(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _WORD.finditer(text):
        word = m.group(0)
        low = word.lower()
        before = text[: m.start()]
        sentence_start = not before.strip() or bool(_SENTENCE_END.search(before))
        capital = word[0].isupper()
        is_name = (
            low in _NAMES
            or low in _EXTRA_NAMES
            or (low not in _COMMON and _in_name_list(low))
            or (capital and low in _WORDLIKE_NAMES)
            or (capital and not sentence_start and low not in _COMMON and not word.isupper())
            or (capital and sentence_start and low not in _COMMON
                and (((_followed_by_verb(text, m.end()) or bool(_APPOSITIVE.match(text, m.end())))
                      and (low not in name_lists.ordinary_words() or name_lists.is_name_at_start(low)))
                     or name_lists.is_name_at_start(low)))
            or (low in _WORDLIKE_NAMES and low not in _ABSTRACT and _followed_by_verb(text, m.end()))
            or (low in _WORDLIKE_NAMES and (bool(_NAMED_AFTER.match(text, m.end()))
                                            or (sentence_start and bool(_APPOSITIVE.match(text, m.end())))))
        )
        if is_name and not _inside_placeholder(text, m.start()):
            out.append(text[pos : m.start()])
            out.append(NAME)
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _in_name_list(low: str) -> bool:
    """A first name from the maintained lists (admin/reports/name_lists.py) that is not an ordinary word, also
    with a possessive ("leah's") or as part of a double name ("jayden-lee", "Mary-Jane")."""
    core = re.sub(r"['’]s$", "", low)
    parts = [p for p in core.split("-") if p]
    return any(len(p) >= 3 and p not in _COMMON and name_lists.is_first_name(p) for p in parts)


_PERSON_WORDS = (r"(?:foster\s+)?(?:brother|bro|sister|sis|mum|dad|carer|carers|mate|friend|bestie|cousin|iro|sw|"
                 r"social worker|worker|key\s?worker|pa|nan|aunty|auntie|uncle|boyfriend|girlfriend|bf|gf|teacher)")
_APPOSITIVE = re.compile(
    r"(?:\s+(?-i:[A-Z])[\w'’-]+)?(?:,\s+(?:my|our|the|who|she|he)\b|\s+an?d?\s+(?:me|i|his|her|their|\[name\])(?!\w)"
    r"|\s+(?:and|&|n)\s+(?-i:[A-Z][a-z])"
    rf"|\s+(?:my|our)\s+{_PERSON_WORDS}\b"
    r"|\s+(?:from|at)\s+(?:my|the|our)\s+(?:[a-z]+\s+){0,2}(?:class|school|unit|home|team|college|football|group|"
    r"placement|hostel|site|youth club|club|estate|flats)\b)",
    re.I,
)
# After a word that is also a name, what makes it one: "summer, shes my sister", "faith from the leaving care team".
_NAMED_AFTER = re.compile(r"(?:\s+[a-z]+){0,3},?\s+(?:she|he|they)(?:'s|’s|s| is| was| are)\s+(?:my|our|me)\b", re.I)
_ABSTRACT = frozenset({"hope", "faith", "joy", "will", "may", "june", "april", "autumn", "star", "angel", "sunny"})
_VERB_AFTER = re.compile(
    r"\s+(?:is|was|said|says|told|tells|has|had|helps|helped|gave|gives|takes|took|does|did|always|never|"
    r"makes|made|lets|let|came|comes|went|goes|listens|listened|cares|cared|got|gets|paid|pays|sends|sent|"
    r"bought|buys|drove|drives|picked|picks|bunked|laughed|cried|shouted|rang|texted|messaged)\b",
    re.I,
)


def _followed_by_verb(text: str, end: int) -> bool:
    return bool(_VERB_AFTER.match(text, end))


def _inside_placeholder(text: str, start: int) -> bool:
    return start > 0 and text[start - 1] == "["


_INITIALS = re.compile(r"(?<![\w\[])(?:[A-Z]\.\s?){1,3}(?![\w\]])|\b(?!(?:OK|TV|UK|PE|IT|ID|PC|YAC|OCYPC|CAMHS|"
                       r"SEN|SENCO|IRO|GCSE|GCSES|DBS|PEP|NHS|LAC|PA|UASC|CICC|MP|DJ|AM|PM|RE|AND|THE|BUT|NOT|YES|"
                       r"AND|FOR|ALL|YOU|ARE|WAS|CAN|OMG|LOL|CV|KCC|GP|OT|UC|SW|PHE|EHCP|ICO)\b)[A-Z]{2,3}\b")
_STREET_NUMBERED = re.compile(
    r"\b\d+[a-z]?\s+(?:[^\W\d_][\w'’-]*\s+){1,3}(?:road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|"
    r"crescent|gardens|place|hill|park|court|square|terrace|grove|rise|row|walk|mews|parade|green)\b",
    re.I,
)


def _strong_names(text: str) -> str:
    """After "called", "named" or "name is" the next word is a name, and the one after too when it is not an
    ordinary word ("the FCO is called barbara whittle, she's lovely")."""
    def repl(m: re.Match[str]) -> str:
        first, second = m.group(1), m.group(2)
        if first.lower() in _COMMON or _inside_placeholder(text, m.start(1)):
            return m.group(0)
        head = m.group(0)[: m.start(1) - m.start(0)]
        if second and second.lower() not in _COMMON and not _followed_by_verb(text, m.start(2) - 1):
            return head + NAME
        return head + NAME + m.group(0)[m.end(1) - m.start(0):]

    return _STRONG_CONTEXT.sub(repl, text)


def _with_names(text: str) -> str:
    """After "me and", "me an", "mates with": the same test as after a person word, with a few more ordinary
    words left alone ("me and him")."""
    return _names_in_context(text, _WITH_CONTEXT, _NOT_NAMES_AFTER_WITH)


# Ordinary words after "with" or "me and" that _COMMON does not list.
_NOT_NAMES_AFTER_WITH = _words(
    """
    him them us everyone anyone her his their a an the my your our its some any no lots loads food money
    homework school work college uni friends mates bro sis brother sister cousin cousins nan grandad mum dad
    carer carers staff care it that this me myself yourself herself himself themselves out up down
    """
)


def _context_names(text: str) -> str:
    """A word where a name goes is a name when it is a known name, or an unknown word followed by a verb,
    punctuation, "and" or the end ("my carer dave is kind", "my sw is called tez."); ordinary words stay."""
    return _names_in_context(text, _NAME_CONTEXT, frozenset())


def _names_in_context(text: str, context: re.Pattern[str], ordinary: frozenset[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        low = m.group(1).lower()
        if low in _COMMON or low in ordinary or _inside_placeholder(text, m.start(1)):
            return m.group(0)
        known = low in _NAMES or low in _EXTRA_NAMES or low in _WORDLIKE_NAMES
        after = text[m.end(1):]
        if known or _followed_by_verb(text, m.end(1)) or re.match(r"\s*(?:$|[,.!?;:)]|and\b)", after):
            return m.group(0)[: m.start(1) - m.start(0)] + NAME
        return m.group(0)

    return context.sub(repl, text)


# A number that counts time or money ("every 2 weeks", "3 hours", "£10", "5 times") says nothing about who wrote
# it, so it stays; ages, dates, door numbers and the like are still replaced.
_HIDE_DIGITS = {ord(str(d)): 0xE000 + d for d in range(10)}  # kept out of the number rule for a moment
_SHOW_DIGITS = {v: k for k, v in _HIDE_DIGITS.items()}
_COUNTED = re.compile(r"(?:£\s?\d{1,3}(?:\.\d\d)?\b|\b\d{1,2}\s+(?:times|minutes|mins|hours|hrs|days|"
                      r"nights|weeks|months|quid|pounds|years?|yrs?)\b|\b(?:year|yr|level|key stage|ks|season|"
                      r"series|top)\s+\d{1,2}\b)", re.I)


def scrub(text: str) -> str:
    """Return `text` with identifying details replaced by [name], [school], [place], [date], [number]..."""
    s = _COUNTED.sub(lambda m: m.group(0).translate(_HIDE_DIGITS), text)
    s = _STREET_NUMBERED.sub(PLACE, s)
    for rx, label in _RX:
        s = rx.sub(label, s)
    s = _INITIALS.sub(NAME, s)
    s = _LOWER_INITIALS.sub(NAME, s)
    s = _institutions(s, _INSTITUTION, SCHOOL)
    s = _SAINT.sub(SCHOOL, s)
    s = _institutions(s, _STREET, PLACE)
    s = _institutions(s, _STREET_LOWER, PLACE, plain_words_too=False)
    s = _institutions(s, _ESTATE, PLACE)
    s = _places(s)
    s = _TITLE_NAME.sub(NAME, s)
    s = _TITLE_LOWER.sub(NAME, s)
    s = _MISS_LETTER.sub(NAME, s)
    s = _strong_names(s)
    s = _context_names(s)
    s = _with_names(s)
    s = _TWO_CONSONANTS.sub(NAME, s)
    s = _names(s)
    s = re.sub(r"\d+(?:[.,]\d+)*", NUMBER, s).translate(_SHOW_DIGITS)
    # "[name] [name]" -> "[name]"; tidy spaces.
    s = re.sub(r"(\[(\w+)\])(?:[\s,]*\[\2\])+", r"\1", s)
    return re.sub(r"[ \t]{2,}", " ", s).strip()


def has_identifiers(text: str) -> bool:
    """True when scrubbing would change the text (used to flag quotes for a closer look)."""
    return scrub(text) != text.strip()
