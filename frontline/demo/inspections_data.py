"""Demo inspection routes: what is checked on each kind of equipment, and each route's
habits (steady, average, or poor and noisy), so that the analysis has something to say."""

from __future__ import annotations

# Items per asset category: (name, kind, unit, normal min, normal max, mean, sd) for
# numbers; (name, "yes_no", normal answer) for checks; (name, "choice", choices, abnormal)
# for choices; (name, "photo") for photo evidence.
N = "number"
Y = "yes_no"
C = "choice"
P = "photo"

LEAK = ("是否漏水漏油", Y, False)
NOISE = ("是否有异响", Y, False)
LEVEL = ("水位", C, ["正常", "偏低", "偏高"], ["偏低", "偏高"])

ITEMS: dict[str, list[tuple]] = {
    "chiller": [
        ("冷冻水出水温度", N, "°C", "6", "9", 7.2, 0.5),
        ("冷却水进水温度", N, "°C", "26", "32", 29.0, 1.2),
        ("负载率", N, "%", "20", "95", 68.0, 9.0),
        NOISE,
        LEAK,
    ],
    "pump": [
        ("出口压力", N, "MPa", "0.30", "0.60", 0.45, 0.04),
        ("轴承温度", N, "°C", None, "75", 55.0, 5.0),
        ("振动速度", N, "mm/s", None, "4.5", 2.1, 0.6),
        NOISE,
        LEAK,
    ],
    "cooling_tower": [
        ("出水温度", N, "°C", "25", "32", 29.0, 1.0),
        ("风机电流", N, "A", "20", "60", 42.0, 4.0),
        LEVEL,
        NOISE,
    ],
    "air_handler": [
        ("送风温度", N, "°C", "16", "22", 19.0, 0.8),
        ("送风湿度", N, "%RH", "40", "60", 50.0, 4.0),
        ("过滤器压差", N, "Pa", "50", "250", 150.0, 30.0),
        NOISE,
        LEAK,
    ],
    "boiler": [
        ("蒸汽压力", N, "MPa", "0.60", "1.00", 0.80, 0.05),
        ("排烟温度", N, "°C", "120", "200", 160.0, 10.0),
        LEVEL,
        ("燃气是否泄漏", Y, False),
    ],
    "transformer": [
        ("绕组温度", N, "°C", None, "100", 72.0, 7.0),
        ("负载率", N, "%", None, "85", 55.0, 10.0),
        ("是否有放电声或异味", Y, False),
    ],
    "switchgear": [
        ("母线电压", N, "kV", "9.5", "10.7", 10.2, 0.15),
        ("柜内温度", N, "°C", None, "45", 32.0, 3.0),
        ("带电显示", C, ["正常", "异常"], ["异常"]),
        NOISE,
    ],
    "ups": [
        ("负载率", N, "%", None, "80", 45.0, 8.0),
        ("输出电压", N, "V", "370", "410", 380.0, 3.0),
        ("电池温度", N, "°C", "15", "30", 24.0, 1.5),
        ("是否有告警", Y, False),
    ],
    "battery": [
        ("单体电压", N, "V", "12.8", "13.8", 13.5, 0.1),
        ("电池温度", N, "°C", "15", "30", 24.0, 1.5),
        ("是否鼓包漏液", Y, False),
    ],
    "crac": [
        ("回风温度", N, "°C", "20", "27", 24.0, 1.0),
        ("回风湿度", N, "%RH", "40", "60", 48.0, 4.0),
        ("压缩机高压", N, "kPa", "1500", "2500", 2000.0, 100.0),
        ("是否有告警", Y, False),
        LEAK,
    ],
    "generator": [
        ("燃油液位", N, "%", "60", "100", 85.0, 5.0),
        ("启动电池电压", N, "V", "24", "28.5", 26.5, 0.3),
        ("冷却液温度", N, "°C", "30", "50", 40.0, 3.0),
        ("油机外观照片", P),
        LEAK,
    ],
    "compressor": [
        ("排气压力", N, "MPa", "0.60", "0.80", 0.70, 0.03),
        ("排气温度", N, "°C", "70", "100", 85.0, 4.0),
        ("压力露点", N, "°C", "2", "10", 4.0, 1.0),
        NOISE,
        LEAK,
    ],
    # Points without an asset: the plant room itself.
    "room": [
        ("环境温度", N, "°C", "10", "35", 26.0, 2.0),
        ("环境湿度", N, "%RH", "30", "75", 55.0, 6.0),
        ("是否有积水或杂物", Y, False),
    ],
    "header": [
        ("供水压力", N, "MPa", "0.35", "0.65", 0.50, 0.04),
        ("回水压力", N, "MPa", "0.25", "0.55", 0.40, 0.04),
        LEAK,
    ],
}

# Asset category (sites.AssetCategory) → item set; the battery cabinets and compressors are
# "other" in the asset models, told apart by model key.
CATEGORY_ITEMS = {
    "chiller": "chiller",
    "pump": "pump",
    "cooling_tower": "cooling_tower",
    "air_handler": "air_handler",
    "boiler": "boiler",
    "transformer": "transformer",
    "switchgear": "switchgear",
    "ups": "ups",
    "crac": "crac",
    "generator": "generator",
}
MODEL_ITEMS = {"vertiv-battery": "battery", "atlas-ga": "compressor"}

# Route kinds: code, name, item sets of the assets it visits, extra points (name,
# location, item set), schedule (kind, times, every_hours, weekdays, window minutes),
# expected minutes, team index (data.TEAMS), anomaly action, priority.
ROUTE_KINDS = {
    "CEA": (
        "冷站巡检",
        {"chiller", "pump", "cooling_tower"},
        [("集水器/分水器", "B1 冷站", "header"), ("冷站环境", "B1 冷站", "room")],
        ("every_shift", ["00:00", "08:00", "16:00"], None, [], 240),
        45,
        0,
        "work_order",
        "high",
    ),
    "AHU": (
        "洁净空调巡检",
        {"air_handler"},
        [("空调机房环境", "2F 空调机房", "room")],
        ("daily", ["09:00", "21:00"], None, [], 120),
        30,
        0,
        "work_order",
        "normal",
    ),
    "BLR": (
        "锅炉房巡检",
        {"boiler"},
        [("锅炉房环境", "动力中心 锅炉房", "room"), ("分汽缸", "动力中心 锅炉房", "header")],
        ("every_n_hours", ["02:00"], 8, [], 90),
        25,
        0,
        "work_order",
        "urgent",
    ),
    "ELE": (
        "变配电巡检",
        {"transformer", "switchgear"},
        [("变配电室环境", "10kV 变配电室", "room")],
        ("daily", ["10:00"], None, [], 180),
        30,
        1,
        "ticket",
        "high",
    ),
    "UPS": (
        "UPS 及电池巡检",
        {"ups", "battery"},
        [("UPS 室环境", "2F UPS 室", "room")],
        ("daily", ["07:30", "19:30"], None, [], 120),
        35,
        1,
        "work_order",
        "high",
    ),
    "CRAC": (
        "精密空调巡检",
        {"crac"},
        [
            ("数据机房 A1 冷通道", "数据机房 A1", "room"),
            ("数据机房 A2 冷通道", "数据机房 A2", "room"),
        ],
        ("every_shift", ["00:00", "08:00", "16:00"], None, [], 180),
        25,
        1,
        "work_order",
        "high",
    ),
    "GEN": (
        "柴油发电机巡检",
        {"generator"},
        [("油机房环境", "1F 油机房", "room")],
        ("weekly", ["10:00"], None, [0, 3], 240),
        30,
        1,
        "work_order",
        "normal",
    ),
    "MIX": (
        "机房综合巡检",
        {"ups", "battery", "crac", "transformer"},
        [("机房环境", "数据机房", "room")],
        ("daily", ["10:00"], None, [], 240),
        60,
        2,
        "work_order",
        "normal",
    ),
    "AIR": (
        "空压站巡检",
        {"compressor"},
        [("储气罐", "空压站", "header"), ("空压站环境", "空压站", "room")],
        ("daily", ["08:30", "20:30"], None, [], 120),
        20,
        2,
        "ticket",
        "normal",
    ),
}

# Habits: chance a round is missed, started late, points skipped, rounds "walked" in
# seconds at the desk, duration spread, abnormal readings, anomalies followed up.
HABITS = {
    "steady": dict(
        missed=0.01, late=0.03, skip=0.005, unwalked=0.0, cv=0.08, abnormal=0.004, handled=0.95
    ),
    "average": dict(
        missed=0.05, late=0.12, skip=0.04, unwalked=0.03, cv=0.2, abnormal=0.008, handled=0.8
    ),
    "poor": dict(
        missed=0.15, late=0.3, skip=0.15, unwalked=0.15, cv=0.45, abnormal=0.012, handled=0.5
    ),
}

# (project code, site key, route kind, habit)
ROUTES = [
    ("HD-2026-01", "zj", "CEA", "steady"),
    ("HD-2026-01", "zj", "AHU", "steady"),
    ("HD-2026-01", "zj", "BLR", "average"),
    ("HD-2026-01", "zj", "ELE", "steady"),
    ("HD-2026-01", "fx", "CEA", "average"),
    ("HD-2026-01", "fx", "AHU", "average"),
    ("HD-2026-01", "fx", "BLR", "poor"),
    ("HD-2026-01", "fx", "ELE", "steady"),
    ("HD-2026-01", "rd", "CEA", "steady"),
    ("HD-2026-01", "rd", "AHU", "average"),
    ("HD-2026-02", "sip", "CEA", "poor"),
    ("HD-2026-02", "sip", "AHU", "average"),
    ("HD-2026-02", "sip", "BLR", "average"),
    ("HD-2026-02", "sip", "ELE", "steady"),
    ("YG-2026-01", "lg", "ELE", "steady"),
    ("YG-2026-01", "lg", "UPS", "steady"),
    ("YG-2026-01", "lg", "CRAC", "steady"),
    ("YG-2026-01", "lg", "GEN", "steady"),
    ("YG-2026-01", "jd", "UPS", "average"),
    ("YG-2026-01", "jd", "CRAC", "average"),
    ("YG-2026-02", "yh", "MIX", "average"),
    ("YG-2026-02", "ks", "MIX", "poor"),
    ("SX-2026-01", "wj", "CEA", "average"),
    ("SX-2026-01", "wj", "AIR", "steady"),
    ("SX-2026-01", "snd", "AIR", "poor"),
]

SKIP_NOTES = {
    "no_access": "门禁卡权限过期，无法进入",
    "equipment_off": "设备停机检修中",
    "unsafe": "现场有积水，未靠近",
    "under_maintenance": "厂家正在保养",
    "other": "甲方要求暂停巡检",
}

RESOLUTIONS = [
    "已现场复位，复测正常",
    "更换密封件后无渗漏",
    "清洗过滤器，压差恢复正常",
    "调整设定值后恢复正常",
    "紧固接线端子，温升恢复正常",
    "补水至正常水位",
]
DISMISSALS = ["传感器读数误差，复测正常", "工况切换导致的瞬时波动"]
