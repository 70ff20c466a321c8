"""Field-service demo content: what engineers are sent to do, in the customers' words."""

from __future__ import annotations

# Per asset category: (work order type, title, required skill, minimum level, minutes).
JOBS = {
    "chiller": [
        ("repair", "{asset} 高压报警停机，需现场排查", "chiller", 3, 120),
        ("maintenance", "{asset} 季度保养（换油、查漏、清洗冷凝器）", "chiller", 2, 180),
        ("repair", "{asset} 出水温度偏高 2℃，检查制冷剂与膨胀阀", "hvac", 3, 90),
    ],
    "cooling_tower": [
        ("maintenance", "{asset} 填料清洗与布水器检查", "hvac", 2, 120),
        ("repair", "{asset} 风机异响，检查皮带与轴承", "hvac", 2, 60),
    ],
    "air_handler": [
        ("maintenance", "{asset} 更换初中效过滤器", "hvac", 1, 60),
        ("repair", "{asset} 送风温湿度超标，检查表冷阀", "bms", 2, 90),
    ],
    "boiler": [
        ("maintenance", "{asset} 年检前燃烧器调试", "boiler", 3, 150),
        ("repair", "{asset} 点火失败报警", "boiler", 3, 90),
    ],
    "transformer": [
        ("maintenance", "{asset} 红外测温与绝缘检测", "hv-electrical", 3, 120),
    ],
    "switchgear": [
        ("repair", "{asset} 断路器跳闸后复位检查", "hv-electrical", 3, 90),
        ("maintenance", "{asset} 低压柜紧固与清扫", "lv-electrical", 2, 90),
    ],
    "ups": [
        ("maintenance", "{asset} 电池组内阻测试", "ups", 2, 90),
        ("repair", "{asset} 旁路告警，检查整流模块", "ups", 3, 120),
    ],
    "generator": [
        ("maintenance", "{asset} 月度带载试机", "generator", 2, 90),
    ],
    "pump": [
        ("repair", "{asset} 机械密封漏水", "hvac", 1, 60),
    ],
    "crac": [
        ("maintenance", "{asset} 精密空调保养（滤网、加湿罐）", "crac", 2, 60),
        ("repair", "{asset} 高温告警，检查压缩机", "crac", 3, 90),
    ],
    "other": [
        ("survey", "{asset} 现场勘察与改造评估", "bms", 1, 60),
    ],
}

CHECKLISTS = {
    "install": "核对设备型号与序列号\n安装位置与图纸一致\n接线紧固并拍照\n通电试运行 30 分钟\n向客户交接使用说明",
    "repair": "穿戴劳保用品，办理作业许可\n确认故障现象并拍照\n排查并排除故障\n试运行正常\n清理现场",
    "maintenance": "办理作业许可\n按保养清单逐项完成\n记录运行参数\n试运行正常\n清理现场并拍照",
    "inspection_follow_up": "复核巡检发现的异常\n处理或隔离异常\n记录处理结果并拍照",
    "commissioning": "核对调试方案\n单机调试\n联动调试\n记录调试数据\n客户验收",
    "survey": "记录现场条件与限制\n测量并拍照\n与客户确认需求",
}

RESOLUTIONS = [
    ("fixed", "更换损坏部件后恢复正常"),
    ("adjusted", "参数调整后运行正常"),
    ("cleaned", "清洗保养后恢复正常"),
    ("replaced", "更换备件，旧件已回收"),
    ("no_fault", "现场未复现故障，已加强监测"),
]

PARTS = [
    "压缩机油 20L",
    "初效过滤器 ×12",
    "膨胀阀 1 只",
    "断路器 1 只",
    "蓄电池 12V ×4",
    "机械密封 1 套",
    "",
]

REJECT_REASONS = ["正在另一现场抢修，无法按时到达", "车辆故障", "缺少所需备件"]

SURVEY_COMMENTS = [
    "工程师很专业，解释得很清楚。",
    "到场及时，处理干净利落。",
    "希望下次能提前电话确认时间。",
    "问题解决了，但等了比较久。",
    "",
    "",
]

CERTIFICATES = {
    "hv-electrical": "高压电工作业证（应急管理部）",
    "boiler": "特种设备作业人员证（司炉 G1）",
}

# Dispatch rules the demo starts with: (name, conditions, target team index or partner code, mode)
RULES = [
    ("杭州站点交杭州网点", {"region": "杭州"}, {"partner": "partner-hangzhou"}, "assign"),
    ("苏州临时工单抢单", {"region": "苏州", "priority": "normal"}, {"team": 2}, "grab"),
    ("高压电气归电气组", {"skill": "hv-electrical"}, {"team": 1}, "assign"),
    ("数据中心 UPS 归电气组", {"customer": "yungu-idc", "skill": "ups"}, {"team": 1}, "optimise"),
    ("上海暖通由优化器排程", {"region": "上海"}, {"team": 0}, "optimise"),
]
