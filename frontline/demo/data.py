"""What the demo company is made of: plain data, no database access.

沪联设施运维 runs plant rooms for a biopharma manufacturer, a data-centre company and
a precision manufacturer around Shanghai, Suzhou and Hangzhou; two partner outlets
help in Suzhou and Hangzhou.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

PASSWORD = "frontline"

OPERATOR = {
    "code": "operator",
    "name": "沪联设施运维有限公司",
    "phone": "021-6888 1200",
    "email": "service@hulian-fm.example.com",
    "address": "上海市浦东新区张江路 665 号 3 楼",
}

CUSTOMERS = [
    {
        "code": "huadong-bio",
        "name": "华东生物制药有限公司",
        "phone": "021-5080 3300",
        "email": "facility@huadong-bio.example.com",
        "address": "上海市浦东新区张江路 1388 号",
    },
    {
        "code": "yungu-idc",
        "name": "云谷数据中心有限公司",
        "phone": "0571-8820 6600",
        "email": "noc@yungu-idc.example.com",
        "address": "浙江省杭州市余杭区文一西路 1500 号",
    },
    {
        "code": "suxi-precision",
        "name": "苏锡精密制造股份有限公司",
        "phone": "0512-6258 7700",
        "email": "eng@suxi-precision.example.com",
        "address": "江苏省苏州市吴江区开平路 2999 号",
    },
]

PARTNERS = [
    {
        "code": "partner-suzhou",
        "name": "苏州恒温机电服务部",
        "phone": "0512-6665 2210",
        "address": "江苏省苏州市工业园区苏虹中路 200 号",
    },
    {
        "code": "partner-hangzhou",
        "name": "杭州之江暖通服务中心",
        "phone": "0571-8699 3120",
        "address": "浙江省杭州市西湖区西园八路 8 号",
    },
]

SUPPLIERS = [
    {
        "code": "supplier-huatong",
        "name": "华通机电备件有限公司",
        "phone": "021-5988 0011",
        "address": "上海市嘉定区曹安公路 4800 号",
    },
]

# (customer code, site key, name, address, city, latitude, longitude, profile)
# The profile picks the equipment list below.
SITES = [
    (
        "huadong-bio",
        "zj",
        "张江生产基地",
        "上海市浦东新区张江路 1388 号",
        "上海",
        "31.203620",
        "121.593710",
        "pharma",
    ),
    (
        "huadong-bio",
        "fx",
        "奉贤原料药工厂",
        "上海市奉贤区金海公路 6055 号",
        "上海",
        "30.918740",
        "121.473320",
        "pharma",
    ),
    (
        "huadong-bio",
        "rd",
        "闵行研发中心",
        "上海市闵行区紫星路 588 号",
        "上海",
        "31.026480",
        "121.447010",
        "lab",
    ),
    (
        "huadong-bio",
        "sip",
        "苏州生物医药产业园工厂",
        "江苏省苏州市工业园区星湖街 218 号",
        "苏州",
        "31.276030",
        "120.736050",
        "pharma",
    ),
    (
        "yungu-idc",
        "lg",
        "临港一号数据中心",
        "上海市浦东新区临港新片区云鹃路 168 号",
        "上海",
        "30.901280",
        "121.929640",
        "idc",
    ),
    (
        "yungu-idc",
        "jd",
        "嘉定安亭数据中心",
        "上海市嘉定区安亭镇墨玉南路 888 号",
        "上海",
        "31.302150",
        "121.170340",
        "idc",
    ),
    (
        "yungu-idc",
        "yh",
        "杭州余杭数据中心",
        "浙江省杭州市余杭区文一西路 1500 号",
        "杭州",
        "30.287160",
        "120.012350",
        "idc",
    ),
    (
        "yungu-idc",
        "ks",
        "昆山灾备中心",
        "江苏省昆山市开发区前进东路 1299 号",
        "苏州",
        "31.385420",
        "120.980110",
        "idc",
    ),
    (
        "suxi-precision",
        "wj",
        "吴江总厂",
        "江苏省苏州市吴江区开平路 2999 号",
        "苏州",
        "31.130260",
        "120.642380",
        "factory",
    ),
    (
        "suxi-precision",
        "snd",
        "苏州高新区二厂",
        "江苏省苏州市虎丘区珠江路 521 号",
        "苏州",
        "31.305440",
        "120.560710",
        "factory",
    ),
    (
        "suxi-precision",
        "qt",
        "杭州钱塘三厂",
        "浙江省杭州市钱塘区 12 号大街 300 号",
        "杭州",
        "30.303180",
        "120.350260",
        "factory",
    ),
    (
        "suxi-precision",
        "sj",
        "上海松江四厂",
        "上海市松江区新桥镇民强路 1525 号",
        "上海",
        "31.030120",
        "121.227460",
        "factory",
    ),
]

SITE_NOTES = {
    "pharma": "进入 GMP 洁净区须更衣并登记；动火作业须提前 24 小时申请。",
    "lab": "研发楼夜间 22:00 后须联系安保开门。",
    "idc": "凭工单与身份证在门禁处换卡；机房内禁止饮水、禁止拍照。",
    "factory": "厂区限速 15 km/h；进入车间须佩戴安全帽与劳保鞋。",
}

# (customer code, code, name, description, site keys, start, end)
PROJECTS = [
    (
        "huadong-bio",
        "HD-2026-01",
        "张江与奉贤基地暖通及洁净空调运维",
        "冷站、洁净空调与动力系统 7×24 驻场运维，含年度大修。",
        ["zj", "fx", "rd"],
        dt.date(2026, 1, 1),
        dt.date(2028, 12, 31),
    ),
    (
        "huadong-bio",
        "HD-2026-02",
        "苏州产业园动力站维保",
        "冷水机组、锅炉与配电系统的季度维保与 4 小时应急响应。",
        ["sip"],
        dt.date(2026, 3, 1),
        dt.date(2027, 2, 28),
    ),
    (
        "yungu-idc",
        "YG-2026-01",
        "上海数据中心基础设施运维",
        "高低压配电、UPS、精密空调与冷源系统驻场运维，SLA 15 分钟响应。",
        ["lg", "jd"],
        dt.date(2025, 7, 1),
        dt.date(2028, 6, 30),
    ),
    (
        "yungu-idc",
        "YG-2026-02",
        "杭州与昆山机房维保",
        "异地机房巡检与维保，由合作网点提供现场支持。",
        ["yh", "ks"],
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    ),
    (
        "suxi-precision",
        "SX-2026-01",
        "四厂动力设备年度维保",
        "空压、冷水、锅炉与变配电设备年度维保合同。",
        ["wj", "snd", "qt", "sj"],
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    ),
]

# key: (manufacturer, model, category, description)
ASSET_MODELS = {
    "carrier-30xw": ("Carrier 开利", "30XW-1402", "chiller", "螺杆式水冷冷水机组 1400 kW"),
    "carrier-19xr": ("Carrier 开利", "19XR-1250", "chiller", "离心式冷水机组 4400 kW"),
    "trane-cvhe": ("Trane 特灵", "CVHE-500", "chiller", "三级压缩离心式冷水机组"),
    "york-yk": ("York 约克", "YK-EP", "chiller", "变频离心式冷水机组"),
    "gree-lsblx": ("格力", "LSBLX1200", "chiller", "磁悬浮变频离心式冷水机组"),
    "bac-vti": ("BAC 巴尔的摩", "VTL-S1200", "cooling_tower", "闭式横流冷却塔"),
    "liangchi-lbc": ("良机", "LBC-300RT", "cooling_tower", "开式逆流冷却塔"),
    "trane-clcp": ("Trane 特灵", "CLCP-25", "air_handler", "组合式空调机组（洁净型）"),
    "york-yma": ("York 约克", "YMA-120", "air_handler", "组合式空气处理机组"),
    "lijiu-wns": ("力聚", "WNS4-1.25-Q", "boiler", "燃气蒸汽锅炉 4 t/h"),
    "viessmann-vitomax": ("Viessmann 菲斯曼", "Vitomax 200-HS", "boiler", "燃气蒸汽锅炉"),
    "abb-resibloc": ("ABB", "RESIBLOC 2000kVA", "transformer", "10/0.4 kV 干式变压器"),
    "sunten-scb13": ("顺特电气", "SCB13-2500/10", "transformer", "10 kV 干式变压器"),
    "abb-unigear": ("ABB", "UniGear ZS1", "switchgear", "12 kV 中压开关柜"),
    "schneider-mvnex": ("施耐德", "MVnex", "switchgear", "12 kV 中压开关柜"),
    "schneider-blokset": ("施耐德", "Blokset", "switchgear", "低压配电柜"),
    "vertiv-exl": ("维谛 Vertiv（原艾默生）", "Liebert EXL S1 500kVA", "ups", "模块化 UPS"),
    "schneider-galaxy": ("施耐德", "Galaxy VX 750kVA", "ups", "大功率 UPS"),
    "vertiv-battery": (
        "维谛 Vertiv（原艾默生）",
        "Liebert 电池柜 BC-12V",
        "other",
        "UPS 阀控铅酸电池柜",
    ),
    "vertiv-pex": ("维谛 Vertiv（原艾默生）", "Liebert PEX4 P4045", "crac", "房间级精密空调 45 kW"),
    "schneider-uniflair": ("施耐德", "Uniflair TDAV1321A", "crac", "房间级精密空调"),
    "gree-jk": ("格力", "JK45F", "crac", "机房精密空调"),
    "grundfos-nbg": ("Grundfos 格兰富", "NBG 150-125", "pump", "端吸泵 75 kW"),
    "wilo-il": ("Wilo 威乐", "IL 150/270-37/4", "pump", "管道泵 37 kW"),
    "cummins-c2000": ("Cummins 康明斯", "C2000 D5", "generator", "2000 kVA 柴油发电机组"),
    "cat-3516": ("Caterpillar 卡特彼勒", "3516C", "generator", "2250 kVA 柴油发电机组"),
    "atlas-ga": ("Atlas Copco 阿特拉斯", "GA 160 VSD+", "other", "变频螺杆空压机"),
}

# Equipment list per site profile: (model key, name, location, count, children)
# children: (model key, name, count) created with the parent as their ``parent``.
PROFILES: dict[str, list[tuple]] = {
    "pharma": [
        ("carrier-30xw", "冷水机组", "B1 冷站", 3, [("grundfos-nbg", "冷冻水泵", 1)]),
        ("liangchi-lbc", "冷却塔", "屋面 冷却塔区", 2, []),
        ("lijiu-wns", "蒸汽锅炉", "动力中心 锅炉房", 2, []),
        ("trane-clcp", "洁净空调机组 AHU", "2F 空调机房", 3, []),
        ("abb-resibloc", "干式变压器", "10kV 变配电室", 2, []),
        ("schneider-mvnex", "高压开关柜", "10kV 变配电室", 1, []),
    ],
    "lab": [
        ("york-yk", "冷水机组", "B1 冷站", 2, []),
        ("york-yma", "组合式空调机组", "各层空调机房", 4, []),
        ("wilo-il", "冷却水泵", "B1 冷站", 2, []),
        ("sunten-scb13", "干式变压器", "B1 变配电室", 1, []),
    ],
    "idc": [
        ("sunten-scb13", "干式变压器", "10kV 变配电室", 2, []),
        ("abb-unigear", "中压开关柜", "10kV 变配电室", 1, []),
        ("vertiv-exl", "UPS", "2F UPS 室", 2, [("vertiv-battery", "电池柜", 2)]),
        ("vertiv-pex", "精密空调", "数据机房 A1", 2, []),
        ("gree-jk", "精密空调", "数据机房 A2", 1, []),
        ("gree-lsblx", "冷水机组", "B1 冷站", 1, []),
        ("cummins-c2000", "柴油发电机组", "1F 油机房", 1, []),
    ],
    "factory": [
        ("trane-cvhe", "冷水机组", "动力站 冷冻站", 2, [("wilo-il", "冷冻水泵", 1)]),
        ("bac-vti", "冷却塔", "动力站 屋面", 1, []),
        ("viessmann-vitomax", "蒸汽锅炉", "锅炉房", 1, []),
        ("abb-resibloc", "干式变压器", "总配电室", 1, []),
        ("schneider-blokset", "低压配电柜", "总配电室", 2, []),
        ("atlas-ga", "空压机", "空压站", 2, []),
    ],
}

# Sites whose equipment is mid-repair or broken right now: (site key, asset index, status)
ASSET_STATUS_OVERRIDES = [
    ("zj", 1, "faulty"),
    ("fx", 4, "under_maintenance"),
    ("lg", 3, "faulty"),
    ("jd", 7, "under_maintenance"),
    ("wj", 0, "under_maintenance"),
    ("yh", 9, "standby"),
    ("qt", 5, "faulty"),
    ("ks", 2, "standby"),
    ("snd", 8, "retired"),
]

SKILLS = [
    ("hvac", "暖通空调", "冷水机组、空调机组、冷却塔与水系统的运行和维修"),
    ("chiller", "冷水机组", "离心机、螺杆机的保养、故障诊断与大修"),
    ("hv-electrical", "高压电工", "10 kV 变配电设备操作与维护（持高压电工证）"),
    ("lv-electrical", "低压电工", "低压配电、配电柜与电气线路维修"),
    ("boiler", "锅炉", "燃气锅炉运行与维护（持司炉证）"),
    ("ups", "UPS 与电池", "UPS 主机、电池组测试与更换"),
    ("bms", "楼宇自控 BMS", "楼宇自控系统、传感器与控制逻辑调试"),
    ("crac", "精密空调", "机房精密空调保养与维修"),
    ("cleanroom", "洁净室", "GMP 洁净室环境控制与验证"),
    ("generator", "柴油发电机", "柴发机组保养与带载测试"),
]

# Operator staff with fixed logins: (email, display name, role, team index or None)
STAFF = [
    ("admin@example.com", "陈立军", "admin"),
    ("manager@example.com", "王海燕", "manager"),
    ("dispatcher@example.com", "刘思远", "dispatcher"),
    ("dispatcher2@example.com", "孙婷", "dispatcher"),
    ("agent@example.com", "赵敏", "agent"),
    ("agent2@example.com", "周佳怡", "agent"),
    ("analyst@example.com", "吴晓峰", "quality_analyst"),
]

ENGINEER_COUNT = 40  # engineer@example.com is the first of them

TEAMS = [
    # name, description, dispatch mode, city of the members
    ("上海暖通一组", "上海各基地冷站、空调与锅炉", "assign", "上海"),
    ("电气与 UPS 组", "高低压配电、UPS 与柴发", "assign", "上海"),
    ("苏杭机动抢单组", "苏州、杭州的临时工单，工程师抢单", "grab", "苏州"),
]

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN_NAMES = [
    "建国",
    "志强",
    "海涛",
    "晓东",
    "伟",
    "磊",
    "军",
    "洋",
    "勇",
    "杰",
    "涛",
    "明",
    "超",
    "斌",
    "鹏",
    "浩然",
    "宇航",
    "子豪",
    "文博",
    "俊杰",
    "国庆",
    "春雷",
    "永刚",
    "立新",
    "振华",
    "卫东",
    "红兵",
    "家豪",
    "晨阳",
    "一鸣",
    "思成",
    "雨泽",
    "嘉伟",
    "天佑",
    "博文",
    "明轩",
    "建华",
    "志刚",
    "宏伟",
    "少华",
    "德胜",
    "金龙",
]

CUSTOMER_CONTACTS = {
    # customer code: [(email, name, role)] — the first customer admins have fixed logins
    "huadong-bio": [
        ("customer-a@example.com", "钱美玲", "customer_admin"),
        ("hd-facility@example.com", "蒋文斌", "customer_user"),
        ("hd-ehs@example.com", "沈丽华", "customer_user"),
    ],
    "yungu-idc": [
        ("customer-b@example.com", "韩冬", "customer_admin"),
        ("yg-noc@example.com", "冯晓雪", "customer_user"),
    ],
    "suxi-precision": [
        ("customer-c@example.com", "邓志明", "customer_admin"),
        ("sx-energy@example.com", "曹颖", "customer_user"),
    ],
}

PARTNER_PEOPLE = {
    "partner-suzhou": [
        ("partner@example.com", "彭国华", "partner_admin"),
        ("sz-eng1@example.com", "曾庆丰", "partner_engineer"),
        ("sz-eng2@example.com", "肖海波", "partner_engineer"),
        ("sz-eng3@example.com", "田文亮", "partner_engineer"),
    ],
    "partner-hangzhou": [
        ("partner-hz@example.com", "董建新", "partner_admin"),
        ("hz-eng1@example.com", "潘永福", "partner_engineer"),
        ("hz-eng2@example.com", "袁小军", "partner_engineer"),
    ],
}

SUPPLIER_PEOPLE = {
    "supplier-huatong": [("supplier@example.com", "蔡明", "supplier_contact")],
}

# The logins printed by `make run` and listed in the README.
LOGINS = [
    ("admin@example.com", "admin", "管理员，也能进入 Django admin"),
    ("manager@example.com", "manager", "运维经理"),
    ("dispatcher@example.com", "dispatcher", "调度员"),
    ("agent@example.com", "agent", "客服"),
    ("engineer@example.com", "engineer", "工程师"),
    ("analyst@example.com", "quality_analyst", "质检分析"),
    ("customer-a@example.com", "customer_admin", "华东生物制药"),
    ("customer-b@example.com", "customer_admin", "云谷数据中心"),
    ("partner@example.com", "partner_admin", "苏州恒温机电服务部"),
]

DEMO_EPOCH = dt.date(2018, 6, 1)
DECIMAL_PLACES = Decimal("0.000001")
