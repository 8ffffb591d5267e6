"""The eight services of seed 001 with their prices, each with an active v1
template on the offline model `local-assistant` (max_tokens within its 1,024). Platform data: a fresh
install must have a catalog. Operators change prompts by adding versions in
the admin; this migration never overwrites what exists (get_or_create)."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

MODEL = "local-assistant"

LANGUAGE = {
    "name": "language",
    "type": "string",
    "enum": ["ko", "en"],
    "default": "ko",
    "label": {"en": "Answer language", "ko": "답변 언어"},
    "enum_labels": {"en": {"ko": "Korean", "en": "English"}, "ko": {"ko": "한국어", "en": "영어"}},
}
GENDER = {
    "name": "gender",
    "type": "string",
    "enum": ["female", "male"],
    "label": {"en": "Gender", "ko": "성별"},
    "enum_labels": {"en": {"female": "Female", "male": "Male"}, "ko": {"female": "여성", "male": "남성"}},
}
LANGUAGE_RULE = (
    "Write every text value in the language whose code is given (ko = Korean, en = English). "
    "Keep the JSON keys in English exactly as the schema names them."
)
FORTUNE_CARE = (
    "This is a traditional reading offered for reflection and entertainment. Be warm and concrete, never "
    "fatalistic; do not predict death, illness or disaster, and do not give medical, legal or financial "
    "instructions. If the person seems distressed, gently suggest talking to someone they trust."
)


def text(max_length=600):
    return {"type": "string", "minLength": 1, "maxLength": max_length}


FOUR_AREAS = {
    "type": "object",
    "required": ["career", "love", "wealth", "health"],
    "properties": {"career": text(), "love": text(), "wealth": text(), "health": text()},
}
FIVE_ELEMENTS = {
    "type": "object",
    "required": ["wood", "fire", "earth", "metal", "water"],
    "properties": {e: {"type": "integer", "minimum": 0, "maximum": 8} for e in ("wood", "fire", "earth", "metal", "water")},
}

SERVICES = [
    {
        "service_type": "name-analysis",
        "category": "fortune",
        "name_ko": "성명학 분석",
        "name_en": "Name analysis",
        "description_ko": "이름의 한자 뜻과 획수, 음양오행으로 이름에 담긴 의미와 운세를 풀이합니다.",
        "description_en": "Reads the meaning and fortune of a name from its characters, stroke counts and five elements.",
        "credit_cost": Decimal("10"),
        "icon": "✍️",
        "sort_order": 10,
        "template": {
            "output_format": "json",
            "temperature": Decimal("0.60"),
            "max_tokens": 1024,
            "description": "Korean seongmyeonghak reading: meaning, stroke numerology, five elements, four areas.",
            "system_prompt": (
                "You are an experienced practitioner of Korean name analysis (seongmyeonghak, 성명학). You explain "
                "the meaning of the Hanja characters when they are given, the stroke-count numerology of the "
                "surname and given name (won-hyeong-i-jeong 원형이정 grids), the balance of the five elements in "
                "the sounds of the name, and what these suggest about personality and fortune. When no Hanja is "
                "given, work from the Korean sounds and say that the reading is based on pronunciation only.\n"
                f"{FORTUNE_CARE}\n{LANGUAGE_RULE}"
            ),
            "user_prompt_template": (
                "Analyse this name.\nName: {{full_name}}\nHanja (may be empty): {{hanja}}\n"
                "Birth date (may be empty): {{birth_date}}\nGender (may be empty): {{gender}}\n"
                "Answer language: {{language}}"
            ),
            "parameters": [
                {"name": "full_name", "type": "string", "required": True, "min_length": 2, "max_length": 40,
                 "label": {"en": "Full name", "ko": "이름 (성 포함)"}},
                {"name": "hanja", "type": "string", "max_length": 40, "label": {"en": "Hanja (optional)", "ko": "한자 (선택)"},
                 "help": {"en": "The Chinese characters of the name, if it has them.", "ko": "이름의 한자가 있다면 적어 주세요."}},
                {"name": "birth_date", "type": "date", "label": {"en": "Birth date (optional)", "ko": "생년월일 (선택)"}},
                GENDER,
                LANGUAGE,
            ],
            "validation_schema": {
                "type": "object",
                "required": ["summary", "name_meaning", "stroke_analysis", "five_elements", "personality", "fortune",
                             "advice", "score"],
                "properties": {
                    "summary": text(400),
                    "name_meaning": text(),
                    "stroke_analysis": text(),
                    "five_elements": FIVE_ELEMENTS,
                    "personality": text(),
                    "fortune": FOUR_AREAS,
                    "advice": text(),
                    "score": {"type": "integer", "minimum": 0, "maximum": 100},
                },
            },
        },
    },
    {
        "service_type": "dream-interpretation",
        "category": "fortune",
        "name_ko": "꿈 해몽",
        "name_en": "Dream interpretation",
        "description_ko": "꿈에 나온 상징을 전통 해몽과 심리학적 관점으로 함께 풀이합니다.",
        "description_en": "Interprets the symbols of a dream from traditional Korean dream lore and psychology.",
        "credit_cost": Decimal("15"),
        "icon": "🌙",
        "sort_order": 20,
        "template": {
            "output_format": "json",
            "temperature": Decimal("0.70"),
            "max_tokens": 1024,
            "description": "Symbols of the dream, traditional haemong meaning, a psychological reading, an outlook.",
            "system_prompt": (
                "You interpret dreams in the tradition of Korean haemong (해몽), where dreams can be omens "
                "(길몽 good, 흉몽 cautionary, 태몽 conception dreams), and you add a modern psychological reading "
                "that relates the symbols to the dreamer's feelings and situation. Name the key symbols, explain "
                "each, then give an overall interpretation and an outlook of good, neutral or caution.\n"
                f"{FORTUNE_CARE}\n{LANGUAGE_RULE}"
            ),
            "user_prompt_template": (
                "Interpret this dream.\nDream: {{dream}}\nHow I felt in the dream (may be empty): {{feeling}}\n"
                "What is going on in my life (may be empty): {{situation}}\nAnswer language: {{language}}"
            ),
            "parameters": [
                {"name": "dream", "type": "text", "required": True, "min_length": 10, "max_length": 2000,
                 "label": {"en": "Your dream", "ko": "꿈 내용"},
                 "help": {"en": "Describe what happened, the people, places, animals and objects.",
                          "ko": "등장한 사람, 장소, 동물, 물건과 일어난 일을 적어 주세요."}},
                {"name": "feeling", "type": "string", "max_length": 200,
                 "label": {"en": "How you felt (optional)", "ko": "꿈속 기분 (선택)"}},
                {"name": "situation", "type": "text", "max_length": 1000,
                 "label": {"en": "Your current situation (optional)", "ko": "요즘 상황 (선택)"}},
                LANGUAGE,
            ],
            "validation_schema": {
                "type": "object",
                "required": ["summary", "dream_type", "symbols", "interpretation", "outlook", "advice"],
                "properties": {
                    "summary": text(400),
                    "dream_type": {"enum": ["good_omen", "caution", "conception", "everyday"]},
                    "symbols": {
                        "type": "array", "minItems": 1, "maxItems": 8,
                        "items": {"type": "object", "required": ["symbol", "meaning"],
                                  "properties": {"symbol": text(80), "meaning": text(400)}},
                    },
                    "interpretation": text(1200),
                    "outlook": {"enum": ["good", "neutral", "caution"]},
                    "advice": text(),
                },
            },
        },
    },
    {
        "service_type": "story",
        "category": "entertainment",
        "name_ko": "이야기 생성",
        "name_en": "Story generator",
        "description_ko": "장르와 주인공, 배경을 고르면 짧은 창작 이야기를 써 드립니다.",
        "description_en": "Writes an original short story from a genre, a hero and a setting you choose.",
        "credit_cost": Decimal("20"),
        "icon": "📖",
        "sort_order": 30,
        "template": {
            "output_format": "markdown",
            "temperature": Decimal("0.90"),
            "max_tokens": 1024,
            "description": "An original short story in Markdown with a title.",
            "system_prompt": (
                "You are a skilled fiction writer. Write an original story with a clear beginning, a turn and an "
                "ending, vivid but economical description and natural dialogue. Fit the vocabulary and themes "
                "to the audience; nothing graphic for children or teens. Format: Markdown, the title as a level-1 "
                "heading, then the story in paragraphs. No preface and no notes after the story."
            ),
            "user_prompt_template": (
                "Genre: {{genre}}\nMain character: {{protagonist}}\nSetting (may be empty): {{setting}}\n"
                "Theme or message (may be empty): {{theme}}\nLength: {{length}} (short = about 400 words, "
                "medium = about 900 words)\nAudience: {{audience}}\n"
                "Language (ko = Korean, en = English): {{language}}"
            ),
            "parameters": [
                {"name": "genre", "type": "string", "required": True,
                 "enum": ["fantasy", "romance", "mystery", "science-fiction", "fairy-tale", "comedy", "horror"],
                 "label": {"en": "Genre", "ko": "장르"},
                 "enum_labels": {
                     "en": {"fantasy": "Fantasy", "romance": "Romance", "mystery": "Mystery",
                            "science-fiction": "Science fiction", "fairy-tale": "Fairy tale", "comedy": "Comedy",
                            "horror": "Horror"},
                     "ko": {"fantasy": "판타지", "romance": "로맨스", "mystery": "미스터리", "science-fiction": "SF",
                            "fairy-tale": "동화", "comedy": "코미디", "horror": "공포"}}},
                {"name": "protagonist", "type": "string", "required": True, "max_length": 120,
                 "label": {"en": "Main character", "ko": "주인공"},
                 "help": {"en": "e.g. a shy baker who can hear plants", "ko": "예: 식물의 말을 듣는 수줍은 제빵사"}},
                {"name": "setting", "type": "string", "max_length": 200, "label": {"en": "Setting (optional)", "ko": "배경 (선택)"}},
                {"name": "theme", "type": "string", "max_length": 200, "label": {"en": "Theme (optional)", "ko": "주제 (선택)"}},
                {"name": "length", "type": "string", "enum": ["short", "medium"], "default": "short",
                 "label": {"en": "Length", "ko": "길이"},
                 "enum_labels": {"en": {"short": "Short", "medium": "Medium"}, "ko": {"short": "짧게", "medium": "보통"}}},
                {"name": "audience", "type": "string", "enum": ["children", "teens", "adults"], "default": "adults",
                 "label": {"en": "Audience", "ko": "독자"},
                 "enum_labels": {"en": {"children": "Children", "teens": "Teens", "adults": "Adults"},
                                 "ko": {"children": "어린이", "teens": "청소년", "adults": "성인"}}},
                LANGUAGE,
            ],
            "validation_schema": None,
        },
    },
    {
        "service_type": "chat",
        "category": "utility",
        "name_ko": "AI 채팅",
        "name_en": "AI chat",
        "description_ko": "무엇이든 물어보세요. 한 번의 질문에 한 번 답합니다.",
        "description_en": "Ask anything: one question, one considered answer.",
        "credit_cost": Decimal("5"),
        "icon": "💬",
        "sort_order": 40,
        "template": {
            "output_format": "text",
            "temperature": Decimal("0.50"),
            "max_tokens": 1000,
            "description": "A single helpful answer in the language of the question.",
            "system_prompt": (
                "You are a helpful, honest assistant. Answer in the language of the question. Be accurate and "
                "say when you are unsure or when the question needs a professional (doctor, lawyer, accountant). "
                "Tone: {{tone}}."
            ),
            "user_prompt_template": "{{message}}",
            "parameters": [
                {"name": "message", "type": "text", "required": True, "max_length": 4000,
                 "label": {"en": "Your question", "ko": "질문"}},
                {"name": "tone", "type": "string", "enum": ["friendly", "professional", "concise"], "default": "friendly",
                 "label": {"en": "Tone", "ko": "말투"},
                 "enum_labels": {"en": {"friendly": "Friendly", "professional": "Professional", "concise": "Concise"},
                                 "ko": {"friendly": "친근하게", "professional": "전문적으로", "concise": "간결하게"}}},
            ],
            "validation_schema": None,
        },
    },
    {
        "service_type": "face-reading",
        "category": "fortune",
        "name_ko": "관상 분석",
        "name_en": "Face reading",
        "description_ko": "얼굴형과 이목구비의 특징을 알려 주시면 전통 관상학으로 풀이합니다.",
        "description_en": "Describe your face shape and features; we read them by traditional Korean physiognomy.",
        "credit_cost": Decimal("25"),
        "icon": "🙂",
        "sort_order": 50,
        "template": {
            "output_format": "json",
            "temperature": Decimal("0.60"),
            "max_tokens": 1024,
            "description": "Gwansang from a described face (no photo): features, personality, four areas.",
            "system_prompt": (
                "You are a reader of Korean physiognomy (gwansang, 관상). You receive a description of a face, "
                "not a photo: read only what is described and say so in the summary. Cover the face shape and the "
                "three sections of the face (상정, 중정, 하정) as far as the description allows, then each described "
                "feature, personality, and the four areas career, love, wealth and health. Never comment on "
                "attractiveness, ethnicity or disability.\n"
                f"{FORTUNE_CARE}\n{LANGUAGE_RULE}"
            ),
            "user_prompt_template": (
                "Face shape: {{face_shape}}\nForehead: {{forehead}}\nEyebrows: {{eyebrows}}\nEyes: {{eyes}}\n"
                "Nose: {{nose}}\nMouth and lips: {{mouth}}\nAge (may be empty): {{age}}\n"
                "Gender (may be empty): {{gender}}\nAnswer language: {{language}}"
            ),
            "parameters": [
                {"name": "face_shape", "type": "string", "required": True,
                 "enum": ["oval", "round", "square", "long", "heart", "diamond"],
                 "label": {"en": "Face shape", "ko": "얼굴형"},
                 "enum_labels": {
                     "en": {"oval": "Oval", "round": "Round", "square": "Square", "long": "Long", "heart": "Heart",
                            "diamond": "Diamond"},
                     "ko": {"oval": "계란형", "round": "둥근형", "square": "각진형", "long": "긴 얼굴형",
                            "heart": "하트형", "diamond": "다이아몬드형"}}},
                {"name": "forehead", "type": "string", "max_length": 150, "label": {"en": "Forehead", "ko": "이마"},
                 "help": {"en": "e.g. broad and smooth", "ko": "예: 넓고 반듯함"}},
                {"name": "eyebrows", "type": "string", "max_length": 150, "label": {"en": "Eyebrows", "ko": "눈썹"}},
                {"name": "eyes", "type": "string", "required": True, "max_length": 150, "label": {"en": "Eyes", "ko": "눈"}},
                {"name": "nose", "type": "string", "required": True, "max_length": 150, "label": {"en": "Nose", "ko": "코"}},
                {"name": "mouth", "type": "string", "max_length": 150, "label": {"en": "Mouth and lips", "ko": "입과 입술"}},
                {"name": "age", "type": "integer", "minimum": 1, "maximum": 120, "label": {"en": "Age (optional)", "ko": "나이 (선택)"}},
                GENDER,
                LANGUAGE,
            ],
            "validation_schema": {
                "type": "object",
                "required": ["summary", "features", "personality", "fortune", "advice"],
                "properties": {
                    "summary": text(400),
                    "features": {
                        "type": "array", "minItems": 1, "maxItems": 8,
                        "items": {"type": "object", "required": ["feature", "reading"],
                                  "properties": {"feature": text(60), "reading": text(400)}},
                    },
                    "personality": text(),
                    "fortune": FOUR_AREAS,
                    "advice": text(),
                },
            },
        },
    },
    {
        "service_type": "saju",
        "category": "fortune",
        "name_ko": "사주팔자",
        "name_en": "Four Pillars (Saju)",
        "description_ko": "태어난 연월일시의 네 기둥과 오행의 균형으로 타고난 성향과 운의 흐름을 봅니다.",
        "description_en": "Reads your nature and the flow of your fortune from the four pillars of your birth.",
        "credit_cost": Decimal("25"),
        "icon": "☯️",
        "sort_order": 60,
        "template": {
            "output_format": "json",
            "temperature": Decimal("0.50"),
            "max_tokens": 1024,
            "description": "Four pillars, day master, five-element balance, four areas and this year's outlook.",
            "system_prompt": (
                "You are a careful Saju (사주팔자, Four Pillars of Destiny) reader. From the birth date, time and "
                "calendar, name the heavenly stem and earthly branch of the year, month, day and hour pillars "
                "(in Korean and Hanja, e.g. 갑자 甲子); use null for the hour pillar when the time is unknown. "
                "Identify the day master (일간), count the five elements across the pillars, and explain the "
                "balance: what is strong, what is lacking and how to complement it. Then read personality, the "
                "four areas, and the outlook for the current year.\n"
                f"{FORTUNE_CARE}\n{LANGUAGE_RULE}"
            ),
            "user_prompt_template": (
                "Birth date: {{birth_date}} ({{calendar}} calendar)\nBirth time (may be empty = unknown): {{birth_time}}\n"
                "Gender: {{gender}}\nAnswer language: {{language}}"
            ),
            "parameters": [
                {"name": "birth_date", "type": "date", "required": True, "label": {"en": "Birth date", "ko": "생년월일"}},
                {"name": "calendar", "type": "string", "enum": ["solar", "lunar"], "default": "solar",
                 "label": {"en": "Calendar", "ko": "양력/음력"},
                 "enum_labels": {"en": {"solar": "Solar", "lunar": "Lunar"}, "ko": {"solar": "양력", "lunar": "음력"}}},
                {"name": "birth_time", "type": "time", "label": {"en": "Birth time (optional)", "ko": "태어난 시각 (선택)"},
                 "help": {"en": "Leave empty if unknown.", "ko": "모르면 비워 두세요."}},
                {**GENDER, "required": True},
                LANGUAGE,
            ],
            "validation_schema": {
                "type": "object",
                "required": ["summary", "pillars", "day_master", "five_elements", "personality", "fortune",
                             "this_year", "advice"],
                "properties": {
                    "summary": text(400),
                    "pillars": {
                        "type": "object",
                        "required": ["year", "month", "day", "hour"],
                        "properties": {"year": text(40), "month": text(40), "day": text(40),
                                       "hour": {"type": ["string", "null"], "maxLength": 40}},
                    },
                    "day_master": text(200),
                    "five_elements": FIVE_ELEMENTS,
                    "personality": text(),
                    "fortune": FOUR_AREAS,
                    "this_year": text(),
                    "advice": text(),
                },
            },
        },
    },
    {
        "service_type": "tarot",
        "category": "fortune",
        "name_ko": "타로 카드",
        "name_en": "Tarot reading",
        "description_ko": "질문을 마음에 품고 카드를 펼쳐 보세요. 카드의 의미로 지금의 흐름을 읽습니다.",
        "description_en": "Hold a question in mind and draw: the cards' meanings read the current flow.",
        "credit_cost": Decimal("20"),
        "icon": "🔮",
        "sort_order": 70,
        "template": {
            "output_format": "json",
            "temperature": Decimal("0.90"),
            "max_tokens": 1024,
            "description": "One-card or three-card (past, present, future) Rider-Waite reading.",
            "system_prompt": (
                "You are a thoughtful tarot reader using the 78-card Rider-Waite deck. Draw the cards for the "
                "chosen spread at random (one card: the answer; three cards: past, present, future), each upright "
                "or reversed, and never repeat a card. Explain each card in its position in relation to the "
                "question, then give an overall reading and practical advice.\n"
                f"{FORTUNE_CARE}\n{LANGUAGE_RULE}"
            ),
            "user_prompt_template": "Question: {{question}}\nSpread: {{spread}}\nAnswer language: {{language}}",
            "parameters": [
                {"name": "question", "type": "text", "required": True, "min_length": 5, "max_length": 500,
                 "label": {"en": "Your question", "ko": "질문"},
                 "help": {"en": "An open question works best, e.g. 'What should I focus on at work?'",
                          "ko": "열린 질문이 좋습니다. 예: '직장에서 무엇에 집중해야 할까요?'"}},
                {"name": "spread", "type": "string", "enum": ["one-card", "three-card"], "default": "three-card",
                 "label": {"en": "Spread", "ko": "스프레드"},
                 "enum_labels": {"en": {"one-card": "One card", "three-card": "Three cards (past, present, future)"},
                                 "ko": {"one-card": "한 장", "three-card": "세 장 (과거, 현재, 미래)"}}},
                LANGUAGE,
            ],
            "validation_schema": {
                "type": "object",
                "required": ["summary", "cards", "reading", "advice"],
                "properties": {
                    "summary": text(400),
                    "cards": {
                        "type": "array", "minItems": 1, "maxItems": 3,
                        "items": {"type": "object", "required": ["position", "card", "reversed", "meaning"],
                                  "properties": {"position": text(40), "card": text(60), "reversed": {"type": "boolean"},
                                                 "meaning": text(600)}},
                    },
                    "reading": text(1200),
                    "advice": text(),
                },
            },
        },
    },
    {
        "service_type": "tojeong",
        "category": "fortune",
        "name_ko": "토정비결",
        "name_en": "Tojeong Bigyeol",
        "description_ko": "토정 이지함의 비결로 올 한 해의 총운과 달마다의 운세를 풀이합니다.",
        "description_en": "The year's overall fortune and a reading for each month, after Tojeong Yi Ji-ham's secret.",
        "credit_cost": Decimal("15"),
        "icon": "📜",
        "sort_order": 80,
        "template": {
            "output_format": "json",
            "temperature": Decimal("0.60"),
            "max_tokens": 1024,
            "description": "Year's overall fortune, twelve monthly readings, lucky color/number/direction.",
            "system_prompt": (
                "You read Tojeong Bigyeol (토정비결), the Joseon-era yearly fortune of Yi Ji-ham. From the lunar "
                "birth date (convert a solar date first) and the requested year, derive the upper, middle and "
                "lower numbers (상괘, 중괘, 하괘) as the tradition does and name the resulting gwae. Give the "
                "year's overall fortune in the poetic style of the original verses followed by a plain "
                "explanation, then one short reading for each of the twelve lunar months, and a lucky color, "
                "number and direction.\n"
                f"{FORTUNE_CARE}\n{LANGUAGE_RULE}"
            ),
            "user_prompt_template": (
                "Birth date: {{birth_date}} ({{calendar}} calendar)\nYear to read: {{year}}\nAnswer language: {{language}}"
            ),
            "parameters": [
                {"name": "birth_date", "type": "date", "required": True, "label": {"en": "Birth date", "ko": "생년월일"}},
                {"name": "calendar", "type": "string", "enum": ["lunar", "solar"], "default": "lunar",
                 "label": {"en": "Calendar", "ko": "양력/음력"},
                 "enum_labels": {"en": {"solar": "Solar", "lunar": "Lunar"}, "ko": {"solar": "양력", "lunar": "음력"}}},
                {"name": "year", "type": "integer", "required": True, "minimum": 1900, "maximum": 2100,
                 "label": {"en": "Year to read", "ko": "볼 해"}},
                LANGUAGE,
            ],
            "validation_schema": {
                "type": "object",
                "required": ["summary", "gwae", "overall", "months", "lucky", "advice"],
                "properties": {
                    "summary": text(400),
                    "gwae": text(80),
                    "overall": text(1200),
                    "months": {
                        "type": "array", "minItems": 12, "maxItems": 12,
                        "items": {"type": "object", "required": ["month", "reading"],
                                  "properties": {"month": {"type": "integer", "minimum": 1, "maximum": 12},
                                                 "reading": text(300)}},
                    },
                    "lucky": {"type": "object", "required": ["color", "number", "direction"],
                              "properties": {"color": text(30), "number": {"type": "integer", "minimum": 0, "maximum": 99},
                                             "direction": text(30)}},
                    "advice": text(),
                },
            },
        },
    },
]


def seed(apps, schema_editor):
    Service = apps.get_model("templates", "Service")
    PromptTemplate = apps.get_model("templates", "PromptTemplate")
    for spec in SERVICES:
        spec = dict(spec)
        template = spec.pop("template")
        Service.objects.get_or_create(service_type=spec["service_type"], defaults=spec)
        if not PromptTemplate.objects.filter(service_type=spec["service_type"]).exists():
            PromptTemplate.objects.create(
                service_type=spec["service_type"], version="v1", ai_model=MODEL, is_active=True,
                activated_at=timezone.now(), author="aiplatform", **template,
            )  # fmt: skip


def unseed(apps, schema_editor):
    codes = [s["service_type"] for s in SERVICES]
    apps.get_model("templates", "PromptTemplate").objects.filter(service_type__in=codes, version="v1").delete()
    apps.get_model("templates", "Service").objects.filter(service_type__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("templates", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
