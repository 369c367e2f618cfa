"""Relevance suite: queries a visitor would type against the default exhibit, and the items each
must show in its first ten hits (and, for a few, the items it must not show).

Every expectation was chosen by reading collections/*/items.csv, not by running the search. A case
with `bug` records a search bug found that way: it is a strict xfail until the search is fixed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import opencc
import pytest
from pypinyin import lazy_pinyin

from museum.catalogue.service import Catalogue
from tests.searching import search_text

PAGE = 10
EXHIBIT = Path(__file__).resolve().parents[2] / "collections"


def _cmoa(uuid: str) -> str:
    """Return the item id of a Carnegie Museum of Art record."""
    return f"cmoa:things/{uuid}"


# Items named in more than one case.
ORACLE_BONES = ("met:42045", "met:42022", "si:FSC-O-26")
SHANG_BONE = "met:42045"
ZITHER_CRANE = "met:48896"            # 琴鶴圖, Ming dynasty, ink and color on paper
KESI = "met:51485"                    # 緙絲山水人物圖, Qing dynasty, silk tapestry
SHEEP = "met:36004"                   # 牧羊圖; label strip 南宋李迪春郊牧羊圖
WINTRY_SHEEP = "si:F1970.33"          # 寒林牧羊圖
HERDBOY_BUFFALO = "si:F1915.8"        # 柳蔭牧牛圖, attributed to Xia Gui
HUNDRED_BUFFALO = "met:36033"         # 百牛圖
INK_PLUM_WANG_MIAN = "met:40080"      # 墨梅圖 by Wang Mian 王冕
INK_PLUM_YANSOU = "si:F1931.2"        # 墨梅圖 by Yansou 巖叟
MA_YUAN = ("met:40086", "met:44638", "met:36052")  # two by Ma Yuan 馬遠, one "After Ma Yuan 倣馬遠"
MA_HEZHI = "si:F1919.172"             # 馬和之: shares 馬 with 馬遠, nothing else
WANG_MENG = ("met:39550", "si:F1959.17")
WU_ZHEN = ("met:39547", "met:41462", "si:F1953.85")
ZHAO_MENGFU = ("met:40508", "met:40509")
LI_GONGLIN = ("met:39895", "si:F1911.161e", "met:36041")
XIA_GUI = ("met:36141", HERDBOY_BUFFALO)
QIAN_XUAN = ("si:F1917.183", "met:40309")
FAN_KUAN = ("si:F1919.127", "met:45650")
NYMPH_LUO = "si:F1914.53"             # 洛神圖, attributed to Gu Kaizhi 顧愷之
TEN_KINGS = ("met:44508", "met:44510")
LUOHAN = ("si:F1916.521", "si:F1919.107")  # Chinese titles with 羅漢
HARVESTERS = "met:435809"
BENTHEIM = "commons:ruisdael-bentheim-castle"
PARROTS = "met:13503"
SILK_ON_JUAN = ("met:39895", "si:F1961.34a-c")  # inscriptions say of the work itself: 絹本
QIANLONG_CUP = _cmoa("a2f16f85-77c5-442e-ac63-eb858269acaf")
QIANLONG_DISH = _cmoa("a64f6e2a-1373-437b-8d97-9bceeaf6a935")
KANGXI_BOWL = _cmoa("e13cbdbc-c1c0-4580-9703-47aca5b1f05d")  # creator "unknown Chinese, Kangxi period"
SONG_PILLOW = _cmoa("8ffa147c-f4b1-4221-babd-d1b5e3954231")  # "Northern Song Dynasty, 960-1127"
YI_YUANJI = "met:40071"               # label strip: 北宋易元吉 / "of the Northern Song dynasty"
ZHOU_EWER = _cmoa("69c8b9a7-b1ad-451d-a1c6-3ff7872543c4")    # bronze, 1122 BCE-256 BCE
PERSIAN_PIN = _cmoa("e01ced9f-5189-4794-b7fa-0ac825a596f9")  # bronze, c. 699-500 BCE
JADE_SNUFF = _cmoa("f4ce1e78-cb51-456c-bf82-a9c118e457d3")   # jade, 12th-13th century
AGATE_SNUFF = _cmoa("15478e36-3ce4-4b7f-94db-04ea5670bb37")  # agate, 18th century
SOISSONS_ROUNDEL = _cmoa("9e4e604d-5052-42c1-960b-11050d7a0640")  # 1210-1225
TEMPERANTIA = _cmoa("2ae03844-559a-4bff-8462-254f1d1e7eec")  # Pieter Bruegel I, 1559-1560
WHISTLER = tuple(_cmoa(u) for u in (
    "967364cb-c1d7-4056-b965-627ac42554f9", "f5bc2540-e569-4c9f-9add-7861b211ce04",
    "386f7a20-15c3-4e8d-af5a-35c7e7ef5c4f", "6e96b8c6-a49f-485e-81c8-11317711a21b",
    "3ebf57a7-4cac-4467-8f4d-39349fa0618a"))
HOKUSAI = tuple(_cmoa(u) for u in (
    "6bbf26f2-33e0-4705-934f-717bce962fbd", "3e5312eb-6892-4735-b38f-413579f603bf",
    "70380bf2-f588-4d4c-984d-6ec960bd09ad", "cdca859b-b71b-4526-82d2-6bb36f27aa50",
    "a3f7336c-10cc-4b2f-9e96-a22820023bc4"))
HIROSHIGE = tuple(_cmoa(u) for u in (
    "0e8dda1c-291f-48ba-9175-95ea80baf43d", "ef13ab4d-c0c2-4e1f-b8a4-68f7b897308b",
    "4362e4cf-a2ab-49e6-a1bc-e756ed5f3f65", "6f48ab9c-8e42-4cfc-9cd7-fb1e6e643aa3",
    "9f8efb7f-5476-43bc-8a15-37fd091a4647", "f5b23280-add6-491c-8f97-851cff8ac186",
    "546d33b2-d179-4865-976d-814d0a6ddebc", "2fc4eaaa-0a60-48b9-bc0c-9c5306795ae0",
    "ccf03181-ccd6-495c-9b6b-2f540330c576"))
WEDGWOOD = tuple(_cmoa(u) for u in (
    "65185087-88e6-4e1c-8fd3-ff1967cb3a5f", "bfc0fc11-3b34-43cb-9344-ea62c0179e73",
    "19f808de-3796-4242-8e1f-28976f008634", "11359a60-f249-47cf-b33b-0dc924ea63f4",
    "6eaf7008-ece4-4afb-92ec-8f3bda30a30c", "e8b7eee3-eb20-4095-b516-93a64d2a8ac5",
    "fb545f69-fb16-4dab-9658-fba15a8aeba6", "a7d9b24e-5b85-4cdf-bcd7-633a3928afef"))
GOYA = tuple(_cmoa(u) for u in (
    "1e563c3d-fe87-4e30-8da4-999676ad3c6a", "6836bc0e-83f1-4dd0-b2da-4814d38d4841",
    "974d43af-fd43-4e77-994c-eb47242d693d"))
CONSTABLE = (_cmoa("8c9f747b-b1e7-45e6-8d97-a109009b11c8"), _cmoa("3f9cd903-1732-4f58-8039-221a805cae07"))
COWS = (_cmoa("52e90e65-962f-4dd4-b274-976672eb977b"), _cmoa("1572723a-5b34-4b34-bed2-0e1d6d00f80d"))
KANNON = (_cmoa("70ba429f-b490-4c78-b1a3-bf985ad0897a"), _cmoa("0c7ce4e8-af60-4fcd-9597-c77d0a10509e"))
EDO = (_cmoa("67f9a833-92bd-49c3-9267-26b8f34b0227"), _cmoa("b75a253d-1cac-4cc8-8483-7688a1a8d409"))
SNOW_PRINTS = tuple(_cmoa(u) for u in (
    "7e577afa-79c7-4ed3-9e28-6137b6b2faab", "3d0861f4-a373-497b-8eb6-2cc9db317c43",
    "bb8bd7eb-2862-47b3-89b3-1dcdc1925e7b"))
HORSES = ("met:51773",) + tuple(_cmoa(u) for u in (
    "db4a7306-d732-40cb-a357-5ef375a593b9", "70041e44-597e-4684-9d7a-105cd6900324",
    "80124884-3fa2-48d1-93b0-01c9dd2e89a2", "441ff569-3b32-4680-88a2-e1863ede84a5"))


def _ids_with_medium(collection: str, words: str) -> tuple[str, ...]:
    """Return the ids of a default-exhibit collection's records whose medium contains words."""
    with (EXHIBIT / collection / "items.csv").open(encoding="utf-8", newline="") as rows:
        return tuple(row["id"] for row in csv.DictReader(rows)
                     if words in row["medium"].lower() and "silk" not in row["medium"].lower())


# The CMoA photographs "silk" must never reach by a loose match on "sil...".
SILVER_PRINTS = _ids_with_medium("carnegie-museum-of-art", "gelatin silver")


@dataclass(frozen=True)
class Case:
    """One query and what its first page must (and must not) hold."""

    kind: str
    query: str
    expected: tuple[str, ...]
    reason: str
    within: int = PAGE                       # every expected id must be among the first `within` hits
    absent: tuple[str, ...] = ()             # ids that must not be on the first page at all
    year_from: int | None = None
    year_to: int | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bug: str = ""                            # a known search bug: the case is a strict xfail
    name: str = ""                           # the test id, where the one made from the query is ambiguous


CASES: tuple[Case, ...] = (
    # ----- traditional characters ---------------------------------------------------------
    Case("traditional", "牧羊圖", (SHEEP,), "exact title", within=1),
    Case("traditional", "琴鶴圖", (ZITHER_CRANE,), "exact title", within=1),
    Case("traditional", "百牛圖", (HUNDRED_BUFFALO,), "exact title", within=1),
    Case("traditional", "洛神圖", (NYMPH_LUO,), "exact title", within=1),
    Case("traditional", "墨梅圖", (INK_PLUM_WANG_MIAN, INK_PLUM_YANSOU), "two works with this exact title",
         within=2),
    Case("traditional", "十王圖", TEN_KINGS, "two scrolls with this exact title", within=2),
    Case("traditional", "雪山圖", ("met:51762",), "exact title (雪山行旅圖 only contains 雪山)", within=1),
    Case("traditional", "臨文同墨竹圖", ("met:39546",), "long exact title", within=1),
    Case("traditional", "夏山隱居圖", ("si:F1959.17",), "exact title", within=1),
    Case("traditional", "高士觀瀑", ("met:40086",), "the start of the title 高士觀瀑圖"),
    Case("traditional", "緙絲", (KESI,), "kesi, in the title 緙絲山水人物圖"),
    Case("traditional", "鸚鵡", (PARROTS,), "Chinese title 木槿與鸚鵡 of Hibiscus and Parrots"),
    # ----- the same in simplified characters ----------------------------------------------
    Case("simplified", "牧羊图", (SHEEP,), "simplified form of the title 牧羊圖", within=1),
    Case("simplified", "琴鹤图", (ZITHER_CRANE,), "simplified form of 琴鶴圖", within=1),
    Case("simplified", "百牛图", (HUNDRED_BUFFALO,), "simplified form of 百牛圖", within=1),
    Case("simplified", "洛神图", (NYMPH_LUO,), "simplified form of 洛神圖", within=1),
    Case("simplified", "十王图", TEN_KINGS, "simplified form of 十王圖", within=2),
    Case("simplified", "临文同墨竹图", ("met:39546",), "simplified form of 臨文同墨竹圖", within=1),
    Case("simplified", "夏山隐居图", ("si:F1959.17",), "simplified form of 夏山隱居圖", within=1),
    Case("simplified", "雪景待渡图", ("met:36007",), "simplified form of 雪景待渡圖", within=1),
    Case("simplified", "缂丝", (KESI,), "simplified form of 緙絲"),
    Case("simplified", "鹦鹉", (PARROTS,), "simplified form of 鸚鵡"),
    Case("simplified", "罗汉", LUOHAN, "simplified form of 羅漢 (拂塵羅漢像, 羅漢像)"),
    # ----- mixed scripts and languages ----------------------------------------------------
    Case("mixed", "Ma Yuan 馬遠", MA_YUAN[:2], "creator written 'Ma Yuan 馬遠'"),
    Case("mixed", "oracle 甲骨", ORACLE_BONES, "title 甲骨, title_alt 'Oracle bone'"),
    Case("mixed", "Bruegel 收割者", (HARVESTERS,), "creator in English, title in Chinese", within=1),
    Case("mixed", "牧羊 sheep", (SHEEP, WINTRY_SHEEP), "牧羊 in both titles, sheep in both English titles"),
    Case("mixed", "鸚鵡 parrots", (PARROTS,), "Chinese and English title words", within=1),
    Case("mixed", "Wang Meng 夏山", ("si:F1959.17",), "Wang Meng's 夏山隱居圖", within=1),
    Case("mixed", "墨梅 Wang Mian", (INK_PLUM_WANG_MIAN,), "Wang Mian's 墨梅圖", within=1),
    Case("mixed", "吳鎮 bamboo", ("met:39547", "si:F1953.85"), "Wu Zhen's two bamboo paintings"),
    Case("mixed", "乾隆 porcelain", (QIANLONG_CUP, QIANLONG_DISH), "porcelain cup and dish, Qianlong period"),
    Case("mixed", "silk 清", (KESI,), "the Qing dynasty silk tapestry"),
    # ----- one- and two-character words ---------------------------------------------------
    Case("short", "梅", (INK_PLUM_WANG_MIAN, INK_PLUM_YANSOU, "met:44638"), "梅 in three titles"),
    Case("short", "竹", ("met:39546", "si:F1953.85"), "竹 in two titles (墨竹, 風竹)"),
    Case("short", "牛", (HUNDRED_BUFFALO, HERDBOY_BUFFALO), "牛 in two titles"),
    Case("short", "雪", ("met:36007", "met:40987", "met:51762", "si:F1909.244j", "si:F1961.34a-c"),
         "雪 in five titles"),
    Case("short", "鶴", (ZITHER_CRANE,), "琴鶴圖"),
    Case("short", "鹤", (ZITHER_CRANE,), "simplified 鶴"),
    Case("short", "鱼", ("met:40393",), "simplified 魚 of 魚樂圖"),
    Case("short", "猿", (YI_YUANJI,), "三猿得鷺圖"),
    Case("short", "牧羊", (SHEEP, WINTRY_SHEEP), "two titles with 牧羊",
         absent=(HERDBOY_BUFFALO,)),  # 柳蔭牧牛圖 shares only 牧: buffalo, not sheep
    Case("short", "甲骨", ORACLE_BONES, "title of the three oracle bones"),
    Case("short", "羅漢", LUOHAN, "two titles with 羅漢"),
    Case("short", "山水", (KESI, "met:45650", "si:F1911.161c", "si:F1944.52"), "山水 in four titles"),
    Case("short", "雪山", ("met:51762", "si:F1909.244j"), "雪山圖 and 雪山行旅圖"),
    Case("short", "墨梅", (INK_PLUM_WANG_MIAN, INK_PLUM_YANSOU), "two 墨梅圖",
         absent=("met:39546",)),  # 臨文同墨竹圖 shares only 墨 and has no 梅 anywhere
    Case("short", "梨花", ("met:40309",), "title 梨花圖", within=1),
    # ----- pinyin without tones -----------------------------------------------------------
    Case("pinyin", "muyang", (SHEEP, WINTRY_SHEEP), "牧羊 joined"),
    Case("pinyin", "mu yang", (SHEEP, WINTRY_SHEEP), "牧羊 as two syllables"),
    Case("pinyin", "qinhe", (ZITHER_CRANE,), "琴鶴 joined"),
    Case("pinyin", "qin he tu", (ZITHER_CRANE,), "琴鶴圖 syllable by syllable", within=1),
    Case("pinyin", "jiagu", ORACLE_BONES, "甲骨"),
    Case("pinyin", "luoshen", (NYMPH_LUO,), "洛神"),
    Case("pinyin", "momei", (INK_PLUM_WANG_MIAN, INK_PLUM_YANSOU), "墨梅"),
    Case("pinyin", "shiwang", TEN_KINGS, "十王"),
    Case("pinyin", "bainiu", (HUNDRED_BUFFALO,), "百牛"),
    Case("pinyin", "mayuan", MA_YUAN[:2], "馬遠 joined"),
    Case("pinyin", "wangmeng", WANG_MENG, "王蒙 joined", absent=(INK_PLUM_WANG_MIAN,)),  # 王冕 is wang mian
    Case("pinyin", "xueshan", ("met:51762", "si:F1909.244j"), "雪山"),
    Case("pinyin", "luohan", ("si:F1916.521", "si:F1919.107", "si:F1919.163"),
         "羅漢, also the English titles' Luohan"),
    # ----- pinyin initials ----------------------------------------------------------------
    Case("initials", "myt", (SHEEP,), "牧羊圖"),
    Case("initials", "qht", (ZITHER_CRANE,), "琴鶴圖"),
    Case("initials", "bnt", (HUNDRED_BUFFALO,), "百牛圖"),
    Case("initials", "lst", (NYMPH_LUO,), "洛神圖"),
    Case("initials", "mmt", (INK_PLUM_WANG_MIAN, INK_PLUM_YANSOU), "墨梅圖"),
    Case("initials", "swt", TEN_KINGS, "十王圖"),
    Case("initials", "jg", ORACLE_BONES, "甲骨"),
    # ----- English title words, with stemming ---------------------------------------------
    Case("english", "harvest", (HARVESTERS,), "stem of The Harvesters"),
    Case("english", "harvesters", (HARVESTERS,), "title word", within=1),
    Case("english", "parrot", (PARROTS,), "singular of Parrots"),
    Case("english", "castle", (BENTHEIM,), "View of Bentheim Castle"),
    Case("english", "cranes", (ZITHER_CRANE, KESI), "a crane in one title, cranes in the other's description"),
    Case("english", "bamboo", ("met:39546", "met:39547", "met:41451", "si:F1953.85"), "four titles"),
    Case("english", "buffalo", (HUNDRED_BUFFALO, HERDBOY_BUFFALO), "two Chinese paintings' English titles"),
    Case("english", "sheep", (SHEEP, WINTRY_SHEEP, _cmoa("858ca306-6ef3-4bd7-991c-2298b5c08822")),
         "three titles"),
    Case("english", "snow", (INK_PLUM_WANG_MIAN, "met:51762", "si:F1961.34a-c") + SNOW_PRINTS,
         "six titles with the word snow"),
    Case("english", "snowy", ("met:40987", "si:F1909.244j"), "two titles with snowy"),
    Case("english", "plum blossoms", ("met:44638", INK_PLUM_YANSOU), "two titles"),
    Case("english", "moonlight", ("met:40516", "met:44638", _cmoa("4813fb7d-1936-4a57-b48e-ce2c0a9a42dc")),
         "three titles"),
    Case("english", "waterfall", ("met:40086", HOKUSAI[0], HIROSHIGE[6]), "three titles"),
    Case("english", "sutra", ("met:39958", "met:40516"), "two titles"),
    Case("english", "immortals", (KESI, "si:F1919.128"), "immortals and Immortal's in two titles"),
    Case("english", "filial piety", ("met:39895",), "The Classic of Filial Piety", within=1),
    Case("english", "stone drums", ("met:40512",), "Song of the Stone Drums", within=1),
    Case("english", "Wang Xizhi", ("met:40509",), "Four anecdotes from the life of Wang Xizhi"),
    Case("english", "Bodhidharma", ("si:F1906.261",), "Portrait of Bodhidharma", within=1),
    Case("english", "Luo River", (NYMPH_LUO,), "Nymph of the Luo River"),
    Case("english", "horses", HORSES, "Horses, Horse in five titles"),
    # ----- creators, in Chinese and English -----------------------------------------------
    Case("creator", "馬遠", MA_YUAN, "by and after Ma Yuan", absent=(MA_HEZHI,)),
    Case("creator", "马远", MA_YUAN, "simplified 馬遠", absent=(MA_HEZHI,)),
    Case("creator", "Ma Yuan", MA_YUAN, "English name", absent=(MA_HEZHI,)),
    Case("creator", "趙孟頫", ZHAO_MENGFU, "creator"),
    # 頫 has the rare simplified form 𫖯; visitors type 赵孟頫.
    Case("creator", "赵孟頫", ZHAO_MENGFU, "simplified 趙", name="creator-zhao_meng_fu_simp"),
    Case("creator", "Zhao Mengfu", ZHAO_MENGFU, "English name"),
    Case("creator", "吳鎮", WU_ZHEN, "creator of three works"),
    Case("creator", "吴镇", WU_ZHEN, "simplified 吳鎮"),
    Case("creator", "Wu Zhen", WU_ZHEN, "English name"),
    Case("creator", "王蒙", WANG_MENG, "creator", absent=(INK_PLUM_WANG_MIAN,)),  # 王冕 shares only 王
    Case("creator", "Wang Meng", WANG_MENG, "English name", absent=(INK_PLUM_WANG_MIAN,)),
    Case("creator", "夏珪", XIA_GUI, "after / attributed to Xia Gui"),
    Case("creator", "Xia Gui", XIA_GUI, "English name"),
    Case("creator", "李公麟", LI_GONGLIN, "by, attributed to and after Li Gonglin"),
    Case("creator", "Li Gonglin", LI_GONGLIN, "English name"),
    Case("creator", "錢選", QIAN_XUAN, "by and after Qian Xuan"),
    Case("creator", "钱选", QIAN_XUAN, "simplified 錢選"),
    Case("creator", "顧愷之", (NYMPH_LUO,), "attributed to Gu Kaizhi", within=1),
    Case("creator", "顾恺之", (NYMPH_LUO,), "simplified 顧愷之", within=1),
    Case("creator", "Gu Kaizhi", (NYMPH_LUO,), "English name", within=1),
    Case("creator", "范寬", FAN_KUAN, "attributed to Fan Kuan; 倣…范寬山水圖"),
    Case("creator", "范宽", FAN_KUAN, "simplified 范寬"),
    Case("creator", "Bruegel", (HARVESTERS, TEMPERANTIA), "Pieter Bruegel the Elder / Pieter Bruegel I"),
    Case("creator", "Ruisdael", (BENTHEIM,), "Jacob van Ruisdael", within=1),
    Case("creator", "Tiffany", (PARROTS, _cmoa("01fff89a-431d-45bf-a1b2-43f56852477f")),
         "Louis Comfort Tiffany, and a paper rack by Tiffany Studios"),
    # ----- dynasties, periods and reigns --------------------------------------------------
    Case("dynasty", "明", (ZITHER_CRANE,), "period 明 Ming dynasty"),
    Case("dynasty", "Ming dynasty", (ZITHER_CRANE,), "period 明 Ming dynasty"),
    Case("dynasty", "明代", (ZITHER_CRANE,), "Ming dynasty written 明代"),
    Case("dynasty", "清", (KESI, QIANLONG_CUP, QIANLONG_DISH), "清 Qing dynasty; Qianlong is a Qing reign"),
    Case("dynasty", "Qing dynasty", (KESI, QIANLONG_CUP, QIANLONG_DISH), "as 清"),
    Case("dynasty", "清代", (KESI, QIANLONG_CUP, QIANLONG_DISH), "Qing dynasty written 清代"),
    Case("dynasty", "商", (SHANG_BONE,), "the only item of the Shang dynasty", within=1),
    Case("dynasty", "Shang dynasty", (SHANG_BONE,), "period 商 Shang dynasty", within=1),
    Case("dynasty", "商代", (SHANG_BONE,), "description 商代占卜用的刻辭骨片", within=1),
    Case("dynasty", "南宋", (SHEEP,), "label strip 南宋李迪春郊牧羊圖"),
    Case("dynasty", "北宋", (SONG_PILLOW, YI_YUANJI), "pillow dated Northern Song; label strip 北宋易元吉"),
    Case("dynasty", "Northern Song", (SONG_PILLOW, YI_YUANJI), "as 北宋"),
    Case("dynasty", "宋", (SONG_PILLOW,), "the one object dated to the (Northern) Song"),
    Case("dynasty", "乾隆", (QIANLONG_CUP, QIANLONG_DISH), "objects of the Qianlong period"),
    Case("dynasty", "Qianlong", (QIANLONG_CUP, QIANLONG_DISH), "objects of the Qianlong period"),
    Case("dynasty", "Kangxi", (KANGXI_BOWL,), "bowl of the Kangxi period"),
    Case("dynasty", "康熙", (KANGXI_BOWL,), "Kangxi in Chinese"),
    Case("dynasty", "Edo period", EDO, "two Japanese works dated Edo period"),
    Case("dynasty", "Meiji", (_cmoa("426cb1bf-b1a8-49d1-98d1-aa2ff83813e1"),), "vase dated Meiji period"),
    # ----- date ranges (BCE as negative years) --------------------------------------------
    Case("dates", "", (PERSIAN_PIN, ZHOU_EWER), "the only two dated objects before the common era",
         year_to=-1),
    Case("dates", "bronze", (ZHOU_EWER,), "ewer 1122-256 BCE overlaps; the pin (699-500 BCE) does not",
         year_from=-1200, year_to=-1000, absent=(PERSIAN_PIN,)),
    Case("dates", "oracle bone", (SHANG_BONE,), "the bone is of the Shang dynasty (to 1046 BCE)",
         year_from=-1300, year_to=-1050),
    Case("dates", "", (SONG_PILLOW, JADE_SNUFF), "960-1127 and 1101-1300 overlap 900-1130",
         year_from=900, year_to=1130, absent=(SOISSONS_ROUNDEL,)),
    Case("dates", "Bruegel", (HARVESTERS,), "1565 is in range, Temperantia (1559-1560) is not",
         year_from=1561, year_to=1570, absent=(TEMPERANTIA,)),
    Case("dates", "Chinese porcelain", (QIANLONG_CUP, QIANLONG_DISH), "Qianlong period (1736-1795)",
         year_from=1736, year_to=1795),
    Case("dates", "castle", (BENTHEIM,), "c. 1653", year_from=1650, year_to=1660),
    Case("dates", "snuff bottle", (JADE_SNUFF,), "12th-13th century; the agate one is 18th century",
         year_from=1101, year_to=1300, absent=(AGATE_SNUFF,)),
    Case("dates", "", (ZITHER_CRANE,), "mid-16th century, the only dated Chinese painting of then",
         year_from=1500, year_to=1600, filters={"collection": ("chinese-paintings",)}),
    # ----- materials ----------------------------------------------------------------------
    Case("material", "silk", (KESI,), "medium silk tapestry (kesi)", absent=SILVER_PRINTS),
    # Among all records the CMoA silk textiles match 絹 as well (their medium is silk), so the
    # two paintings whose colophons say 絹本 are looked for among the Chinese paintings only.
    Case("material", "絹", SILK_ON_JUAN, "inscriptions say the work is 絹本 (on silk)",
         filters={"collection": ("chinese-paintings",)}),
    Case("material", "绢本", SILK_ON_JUAN, "simplified 絹本"),
    Case("material", "paper", (ZITHER_CRANE,), "the Chinese painting whose medium is paper",
         filters={"collection": ("chinese-paintings",)}),
    Case("material", "紙", (ZITHER_CRANE,), "paper in Chinese", filters={"collection": ("chinese-paintings",)}),
    Case("material", "kesi", (KESI,), "medium silk tapestry (kesi)", within=1),
    Case("material", "jade", (JADE_SNUFF,), "the only jade object", within=1),
    Case("material", "oil on wood", (HARVESTERS,), "the only work in oil on wood", within=1),
    # ----- Carnegie Museum of Art, in English ---------------------------------------------
    Case("cmoa", "Whistler", WHISTLER, "five works by Whistler"),
    Case("cmoa", "Mrs Leyland", (WHISTLER[0],), "Mrs. Leyland Seated", within=1),
    Case("cmoa", "Mondrian", (_cmoa("a0afab1e-c47a-40e2-aa77-42f2cf899817"),), "Piet Mondrian, Trees", within=1),
    Case("cmoa", "Renoir bathers", (_cmoa("484a0c6e-0173-4dec-bbab-e736980f9731"),), "Bathers with Crab",
         within=1),
    Case("cmoa", "crabs", (_cmoa("484a0c6e-0173-4dec-bbab-e736980f9731"),), "plural of Crab"),
    Case("cmoa", "snuff bottles", (AGATE_SNUFF, JADE_SNUFF), "two Chinese snuff bottles"),
    Case("cmoa", "Stephen Foster", (_cmoa("3a4640a0-77c2-4f78-ad48-2ead42d1a304"),), "Stephen C. Foster",
         within=1),
    Case("cmoa", "Hokusai", HOKUSAI, "five prints by Hokusai"),
    Case("cmoa", "Hiroshige", HIROSHIGE, "nine prints by Hiroshige Andō and Hiroshige II"),
    Case("cmoa", "Constable", CONSTABLE, "two mezzotints after John Constable"),
    Case("cmoa", "Amiens", (_cmoa("888e895e-a5cb-4df1-ad72-cfee4f7c3dcc"),), "La Cathedrale d'Amiens", within=1),
    Case("cmoa", "journee", (_cmoa("888e895e-a5cb-4df1-ad72-cfee4f7c3dcc"),), "Journée without its accent"),
    Case("cmoa", "Goya", GOYA, "three prints by Goya"),
    Case("cmoa", "cow", COWS, "Landscape and Cows, Three Cows"),
    Case("cmoa", "Kannon", KANNON, "two titles"),
    Case("cmoa", "Wedgwood", WEDGWOOD, "eight Wedgwood pieces"),
)


_TO_SIMPLIFIED = opencc.OpenCC("t2s")
_TO_TRADITIONAL = opencc.OpenCC("s2t")


def _slug(text: str) -> str:
    """Return an ASCII test id for text: Chinese as pinyin, tagged simp, trad or zh by its script."""
    words = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(lazy_pinyin(text))).strip("_").lower() or "no_text"
    if text.isascii():
        return words
    if _TO_SIMPLIFIED.convert(text) != text:
        return f"{words}_trad"
    if _TO_TRADITIONAL.convert(text) != text:
        return f"{words}_simp"
    return f"{words}_zh"


def _case_id(case: Case) -> str:
    """Return the readable id of a case: kind, query and any year range or filter."""
    if case.name:
        return case.name
    parts = [case.kind, _slug(case.query)]
    if case.year_from is not None or case.year_to is not None:
        years = ("" if y is None else str(y) for y in (case.year_from, case.year_to))
        parts.append("..".join(years))
    if case.filters:
        parts.append("+".join(v for values in case.filters.values() for v in values))
    return "-".join(parts)


def _param(case: Case) -> object:
    """Return the pytest parameter of a case, marked as a strict xfail when it records a search bug."""
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    return pytest.param(case, id=_case_id(case), marks=marks)


def test_suite_is_large_enough() -> None:
    """The issue asks for at least 60 queries, with must-not cases among them."""
    assert len(CASES) >= 60
    assert sum(1 for case in CASES if case.absent) >= 5


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_relevance(exhibit_catalogue: Catalogue, case: Case) -> None:
    """The expected items are within the first hits of the query; the absent ones are not on page one."""
    results = search_text(exhibit_catalogue, case.query, per_page=PAGE, year_from=case.year_from,
                          year_to=case.year_to, filters=case.filters)
    hits = [item.id for item, _snippet in results.hits]
    missing = [i for i in case.expected if i not in hits[:case.within]]
    unwanted = [i for i in case.absent if i in hits]
    shown = "\n".join(f"  {n}. {item.id}  {item.title}" for n, (item, _s) in enumerate(results.hits, 1))
    assert not missing and not unwanted, (
        f"query {case.query!r} ({case.reason}): missing from the first {case.within}: {missing}; "
        f"must not be shown: {unwanted}; total {results.total}, first page:\n{shown}")
