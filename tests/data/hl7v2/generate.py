#!/usr/bin/env python3
"""Generate the HL7 v2 sample corpus in this folder (tests/data/hl7v2).

EVERYTHING HERE IS FICTITIOUS. Patients, staff, practices, addresses and
organisation codes are invented:
  * NHS numbers are modulus-11 valid numbers from the 999 test range,
  * phone numbers are from the Ofcom drama ranges (01632 960xxx, 07700 900xxx),
  * postcodes use the non-existent "TE" area,
  * ODS-like codes (RXX, RYY, RZZ, Z999xx, G999999x, C999900x) are made up.
Z-segment (ZU1, ZU3) layouts are illustrative only, not a copy of the ITK
definitions, except that ZU1-27 carries a trace status as some legacy feeds do.

Usage:
  python3 generate.py            write the corpus and manifest.tsv next to this script
  python3 generate.py --out DIR  write them to DIR instead
  python3 generate.py --check    regenerate into a temporary folder, compare byte for
                                 byte with the files here, and re-parse the files here
                                 independently to check manifest.tsv and invariants

The output is fully deterministic (no clock, no random module): running the
script again reproduces every file byte for byte.
"""

import datetime
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

ENC = "^~\\&"          # MSH-2, standard encoding characters
CR = "\r"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def nhs_number(stem):
    """Append the modulus-11 check digit to a 9-digit stem (weights 10..2)."""
    assert len(stem) == 9 and stem.isdigit(), stem
    total = sum(int(d) * w for d, w in zip(stem, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        raise ValueError("stem %s has no valid NHS number" % stem)
    return stem + str(check)


def nhs_valid(number):
    if len(number) != 10 or not number.isdigit():
        return False
    try:
        return nhs_number(number[:9]) == number
    except ValueError:
        return False


def seg(name, fields):
    """Build a segment from {field_number: value}; fields are 1-based and every
    field up to the highest number given is written (empty if not given)."""
    n = max(fields) if fields else 0
    return name + "".join("|" + fields.get(i, "") for i in range(1, n + 1))


def header(name, fields, enc=ENC):
    """MSH / FHS / BHS: field 1 is the separator itself, field 2 the encoding
    characters, so the first '|'-joined value is field 3."""
    n = max(fields)
    assert n >= 3
    return name + "|" + enc + "".join("|" + fields.get(i, "") for i in range(3, n + 1))


class Msg:
    def __init__(self, segments, version, msh9, control_id, charset=""):
        self.segments = segments
        self.version = version
        self.msh9 = msh9
        self.control_id = control_id
        self.charset = charset


def msh(app, fac, recv_app, recv_fac, ts, msh9, ctrl, version, extra=None):
    f = {3: app, 4: fac, 5: recv_app, 6: recv_fac, 7: ts, 9: msh9, 10: ctrl,
         11: "P", 12: version}
    f.update(extra or {})
    return header("MSH", f)


VSUFFIX = {"2.3": "v23", "2.4": "v24", "2.5.1": "v251"}

STRUCTURE = {"A01": "ADT_A01", "A04": "ADT_A01", "A08": "ADT_A01", "A13": "ADT_A01",
             "A02": "ADT_A02", "A03": "ADT_A03", "A11": "ADT_A09",
             "A28": "ADT_A05", "A31": "ADT_A05", "A40": "ADT_A39"}


def msh9_for(event, version):
    if version == "2.3":
        return "ADT^" + event
    return "ADT^%s^%s" % (event, STRUCTURE[event])


def tz(version, ts, offset):
    """2.3 feeds send local time without offset; 2.4+ add the UTC offset."""
    return ts if version == "2.3" else ts + offset


# ---------------------------------------------------------------------------
# fictitious people
# ---------------------------------------------------------------------------

def person(stem, mrn7, family, given, middle, prefix, dob, sex, addr, phone,
           parent, parent_rel="MTH^Mother"):
    return dict(nhs=nhs_number(stem), mrn7=mrn7, family=family, given=given,
                middle=middle, prefix=prefix, dob=dob, sex=sex, addr=addr,
                phone=phone, parent=parent, parent_rel=parent_rel)


P = {
    "A01": person("999000001", "1234567", "TESTPATIENT", "ALEX", "JO", "MSTR", "20170412", "M",
                  "12 TEST STREET^^TESTTOWN^^TE1 1ST^GBR^H", "01632 960001", "TESTPATIENT^SAM^^^MRS"),
    "A02": person("999300000", "2300001", "CPISTEST", "JORDAN", "", "MISS", "20190307", "F",
                  "4 EXAMPLE ROAD^^TESTBURY^^TE1 2ST^GBR^H", "01632 960002", "CPISTEST^ROBIN^^^MR",
                  "FTH^Father"),
    "A03": person("999654321", "6543210", "PAEDTEST", "RILEY", "", "MSTR", "20150921", "M",
                  "FLAT 7^ORCHARD HOUSE^TESTFORD^^TE1 3ST^GBR^H", "01632 960003", "PAEDTEST^CASEY^^^MS"),
    "A04": person("999000002", "0000026", "TESTPATIENT", "MORGAN", "LEE", "MISS", "20210115", "F",
                  "88 SAMPLE LANE^^TESTTOWN^^TE2 1ST^GBR^H", "01632 960004", "TESTPATIENT^DREW^^^MS"),
    "A08": person("999000003", "0000034", "XXTESTPATIENT-CPIS", "CHARLIE", "", "", "20160630", "U",
                  "2 DEMO CLOSE^^TESTBURY^^TE2 2ST^GBR^H", "01632 960005", "XXTESTPATIENT-CPIS^JAMIE^^^MX",
                  "PAR^Parent"),
    "A11": person("999000004", "0000042", "CPISTEST", "SAM", "ELLIS", "MSTR", "20220802", "M",
                  "31 PROTOTYPE WAY^^TESTFORD^^TE2 3ST^GBR^H", "01632 960006", "CPISTEST^AVERY^^^MRS"),
    "A13": person("999000005", "0000050", "PAEDTEST", "JAMIE", "", "MISS", "20180214", "F",
                  "THE MILL^MILL LANE^TESTHAM^^TE3 1ST^GBR^H", "01632 960007", "PAEDTEST^LOGAN^^^MR",
                  "FTH^Father"),
    "A28": person("999000006", "0000069", "TESTPATIENT", "FINLEY", "ROWAN", "MSTR", "20230519", "M",
                  "9 MODEL TERRACE^^TESTHAM^^TE3 2ST^GBR^H", "01632 960008", "TESTPATIENT^KIT^^^MS"),
    "A31": person("999000007", "0000077", "SAMPLETEST", "SKYLAR", "", "MISS", "20200909", "F",
                  "ROSE \\T\\ CROWN COTTAGES^2 HIGH STREET^TESTWICK^^TE3 3ST^GBR^H", "01632 960009",
                  "SAMPLETEST^REESE^^^MRS"),
    "A40": person("999000008", "0000085", "CPISTEST", "REMY", "", "MSTR", "20171103", "M",
                  "14 TRIAL AVENUE^^TESTWICK^^TE3 4ST^GBR^H", "01632 960010", "CPISTEST^QUINN^^^MS"),
}

# (sending application, sending facility, site code = PV1-3 facility, MRN prefix, trust)
SENDERS = {
    "2.3": ("PAS", "RZZ", "RZZ01", "RZ", "RZZ"),
    "2.4ED": ("EDSYS", "RXX01", "RXX01", "RX", "RXX"),
    "2.4": ("PAS", "RXX", "RXX01", "RX", "RXX"),
    "2.5.1": ("EPR", "RYY", "RYY02", "RY", "RYY"),
}
ED_EVENTS = ("A04", "A08", "A03", "A11")

# Event dates: 2.3 in February 2024 (GMT), 2.4 in March 2024 (GMT), 2.5.1 in
# April 2024 (BST, +0100).
VDATE = {"2.3": ("202402", "+0000"), "2.4": ("202403", "+0000"), "2.5.1": ("202404", "+0100")}
EVENT_DAY = {"A01": "05", "A02": "06", "A03": "07", "A04": "08", "A08": "11",
             "A11": "12", "A13": "13", "A28": "14", "A31": "15", "A40": "18"}

# 2.3 legacy placement of the NHS number
LEGACY_NHS = {"A01": "pid2", "A02": "untyped_second", "A03": "pid2", "A04": "untyped_first",
              "A08": "pid2", "A11": "bare", "A13": "typed", "A28": "pid2",
              "A31": "untyped_second", "A40": "pid2"}

_seq = [0]


def next_ctrl(app, yymmdd):
    _seq[0] += 1
    ctrl = "%s%s%04d" % (app, yymmdd, _seq[0])
    assert len(ctrl) <= 20
    return ctrl


def phone(version, number, use="PRN", equip="PH"):
    return number if version == "2.3" else "%s^%s^%s" % (number, use, equip)


def xpn(p):
    return "^".join([p["family"], p["given"], p["middle"], "", p["prefix"]]).rstrip("^")


def pid(version, p, mrn, trust, event, extra=None, nhs_first=True):
    f = {1: "1", 5: xpn(p), 7: p["dob"], 8: p["sex"], 11: p["addr"],
         13: phone(version, p["phone"])}
    local = "%s^^^%s^MR" % (mrn, trust)
    if version == "2.3":
        style = LEGACY_NHS[event]
        if style == "pid2":
            f[2] = p["nhs"]
            f[3] = local
        elif style == "untyped_first":
            f[3] = "%s^^^NHS~%s" % (p["nhs"], local)
        elif style == "untyped_second":
            f[3] = "%s~%s^^^NHS" % (local, p["nhs"])
        elif style == "bare":
            f[3] = "%s~%s" % (p["nhs"], local)
        elif style == "typed":
            f[3] = "%s^^^NHS^NH~%s" % (p["nhs"], local)
    else:
        nhs = "%s^^^NHS^NH" % p["nhs"]
        f[3] = "~".join([nhs, local] if nhs_first else [local, nhs])
        f[32] = "NSTS01"
    f.update(extra or {})
    return seg("PID", f)


def pd1(version, n):
    practice = ("TEST MEDICAL PRACTICE %d^^^^^^^^^Z9990%d" % (n, n) if version == "2.5.1"
                else "TEST MEDICAL PRACTICE %d^^Z9990%d" % (n, n))
    return seg("PD1", {3: practice, 4: "G999998%d^TESTGP^PAT^^^DR" % n})


def nk1(version, p):
    return seg("NK1", {1: "1", 2: p["parent"], 3: p["parent_rel"], 4: p["addr"],
                       5: phone(version, p["phone"].replace("01632 960", "07700 900"), "PRN", "CP")})


def evn(version, event, recorded, occurred, operator="", facility=""):
    f = {1: event, 2: recorded}
    if operator:
        f[5] = operator
    f[6] = occurred
    if facility and version != "2.3":
        f[7] = facility
    return seg("EVN", f)


def zu1_trace(status):
    # legacy trace status in ZU1-27 (illustrative Z-segment)
    return seg("ZU1", {27: status})


def zu3(loc_type, source):
    # illustrative attendance-details Z-segment
    return seg("ZU3", {1: "1", 2: loc_type, 3: source, 4: "1^First attendance^ZU054"})


def adt(event, version):
    key = version + "ED" if (version == "2.4" and event in ED_EVENTS) else version
    app, fac, site, mrn_prefix, trust = SENDERS[key]
    p = P[event]
    mrn = mrn_prefix + p["mrn7"]
    yyyymm, off = VDATE[version]
    day = yyyymm + EVENT_DAY[event]
    ctrl = next_ctrl(app, day[2:])
    m9 = msh9_for(event, version)
    vn = list(VSUFFIX).index(version) + 1       # 1, 2, 3: varies small details

    def t(hhmmss):
        return tz(version, day + hhmmss, off)

    extra = {}
    if version != "2.3":
        extra.update({17: "GBR", 19: "EN"})
    if version == "2.5.1" and event in ("A28", "A31"):
        extra.update({15: "AL", 16: "NE"})        # enhanced acknowledgement mode
    if version == "2.5.1" and event == "A08":
        extra[13] = "1042"                        # sequence number
    segs = [msh(app, fac, "CPISENG", trust, t("103015"), m9, ctrl, version, extra)]
    if version == "2.5.1" and event == "A01":
        segs.append(seg("SFT", {1: "FICTIONAL HEALTH SOFTWARE LTD^L", 2: "5.2.1",
                                3: "EPR", 4: "5210", 6: "20240101"}))

    evn1 = "" if (version == "2.5.1" and event in ("A04", "A11")) else event
    segs.append(evn(version, evn1, t("103015"), t("102500"),
                    operator="U9990%02d^TESTCLERK^ALEX" % vn, facility=site))

    pid_extra = {}
    if event == "A08":
        pid_extra[13] = '""'                      # explicit null: home phone deleted
    if event == "A01" and version == "2.5.1":
        pid_extra[21] = "%s^^^NHS^NH" % nhs_number("999890123")   # mother's identifier
    segs.append(pid(version, p, mrn, trust, event, pid_extra, nhs_first=(vn % 2 == 1)))
    segs.append(pd1(version, vn))

    person_level = event in ("A28", "A31", "A40")
    if event in ("A01", "A04", "A08", "A13", "A28", "A31"):
        segs.append(nk1(version, p))
    if event == "A40":
        segs.append(seg("MRG", {1: "%s9%s^^^%s^MR" % (mrn_prefix, p["mrn7"][1:], trust),
                                7: "CPISTEST^REMI^^^MSTR"}))

    ed_visit = "%sED%06d" % (trust, 100000 + int(p["mrn7"][-4:]) * 10 + vn)
    ip_visit = "%sIP%06d" % (trust, 200000 + int(p["mrn7"][-4:]) * 10 + vn)
    cons = "C999900%d^DOCTORTEST^JO^^^DR" % vn
    if person_level:
        pv1 = {1: "1"} if version == "2.3" else {1: "1", 2: "N"}
    elif event == "A01":
        pv1 = {1: "1", 2: "I", 3: "PAEDW^BAY2^B04^" + site, 4: "21", 7: cons, 10: "420",
               14: "19", 19: ip_visit, 44: t("101500")}
    elif event == "A02":
        pv1 = {1: "1", 2: "I", 3: "PAEDW^SIDE1^B01^" + site, 4: "21",
               6: "ED^RESUS^R2^" + site, 7: cons, 10: "420", 19: ip_visit, 44: t("081000")}
    elif event == "A03":
        pv1 = {1: "1", 2: "E", 3: "ED^MAJ^C3^" + site, 7: cons, 10: "180", 19: ed_visit,
               36: "19", 44: t("064200"), 45: t("101800")}
    elif event == "A04":
        pv1 = {1: "1", 2: "E", 3: "ED^^^" + site, 10: "180", 19: ed_visit, 44: t("102200")}
    elif event == "A08":
        pv1 = {1: "1", 2: "E", 3: "ED^PAEDS^P2^" + site, 7: cons, 10: "180",
               19: ed_visit, 44: t("091200")}
    elif event == "A11":
        pv1 = {1: "1", 2: "E", 3: "ED^^^" + site, 10: "180", 19: ed_visit, 44: t("095000")}
    elif event == "A13":
        pv1 = {1: "1", 2: "I", 3: "PAEDW^BAY1^B02^" + site, 4: "21", 7: cons, 10: "420",
               19: ip_visit, 44: day[:6] + "%02d" % (int(day[6:]) - 2) + "163000"
               + ("" if version == "2.3" else off)}
    segs.append(seg("PV1", pv1))

    admit_reason = {"A01": "^SUSPECTED FRACTURED FEMUR",
                    "A02": "^HEAD INJURY FOR OBSERVATION",
                    "A03": "^SCALP LACERATION",
                    "A04": "^FALL FROM PLAY EQUIPMENT" if vn != 1 else "^SOB \\F\\ WHEEZE",
                    "A08": "^ABDOMINAL PAIN",
                    "A13": "^FEBRILE CONVULSION"}
    if event in admit_reason:
        segs.append(seg("PV2", {3: admit_reason[event]}))
    if event == "A01":
        segs.append(seg("OBX", {1: "1", 2: "NM", 3: "29463-7^Body weight^LN", 5: "21.4",
                                6: "kg^kilogram^UCUM", 11: "F", 14: t("100500")}))
        segs.append(seg("DG1", {1: "1", 3: "S723^Fracture of shaft of femur^I10",
                                5: t("101000"), 6: "W"}))
    if event == "A03":
        segs.append(seg("DG1", {1: "1", 3: "S010^Open wound of scalp^I10", 6: "F"}))
    if version == "2.3" and event in ("A01", "A04"):
        segs.append(zu1_trace("NSTS01"))
    if version != "2.3" and event == "A04":
        segs.append(zu3("01^EMERGENCY DEPARTMENT^ZLOCTYPE", "19^HOME^ZSOURCE"))
    return Msg(segs, version, m9, ctrl)


# ---------------------------------------------------------------------------
# special files
# ---------------------------------------------------------------------------

def itk_a04():
    nhs = nhs_number("999111222")
    ctrl = "PAS2403200001"
    m9 = "ADT^A04^ADT_A01"
    segs = [
        header("MSH", {3: "PAS", 4: "RZZ", 5: "ROUTE", 6: "ROUTE", 7: "20240320091502+0000",
                       9: m9, 10: ctrl, 11: "P", 12: "2.4", 17: "GBR", 19: "EN", 21: "ITKv1.0"}),
        seg("EVN", {2: "20240320091502+0000", 5: "U999101^TESTCLERK^JESS", 6: "20240320090800+0000",
                    7: "RZZ01"}),
        seg("PID", {1: "1", 3: "%s^^^NHS^NH~RZ1112227^^^RZZ^MR" % nhs,
                    5: "ITKTEST^ELLIOT^^^MSTR", 7: "20190101", 8: "M",
                    11: "5 SPECIMEN STREET^^TESTPOOL^^TE5 1ST^GBR^H",
                    13: "01632 960020^PRN^PH", 32: "NSTS01"}),
        seg("PD1", {3: "TEST MEDICAL PRACTICE 5^^Z99905", 4: "G9999985^TESTGP^LEE^^^DR"}),
        seg("NK1", {1: "1", 2: "ITKTEST^HARPER^^^MRS", 3: "MTH^Mother",
                    4: "5 SPECIMEN STREET^^TESTPOOL^^TE5 1ST^GBR^H", 5: "07700 900020^PRN^CP"}),
        seg("PV1", {1: "1", 2: "E", 3: "ED^^^RZZ01", 10: "180", 19: "RZZED0200001",
                    44: "20240320090800+0000"}),
        seg("PV2", {3: "^ACCIDENTAL INGESTION"}),
        zu3("01^EMERGENCY DEPARTMENT^ZLOCTYPE", "19^HOME^ZSOURCE"),
    ]
    return Msg(segs, "2.4", m9, ctrl)


def utf8_a01():
    ctrl = "EPR2404220001"
    m9 = "ADT^A01^ADT_A01"
    segs = [
        msh("EPR", "RYY", "CPISENG", "RYY", "20240422151000+0100", m9, ctrl, "2.5.1",
            {17: "GBR", 18: "UNICODE UTF-8", 19: "EN"}),
        seg("EVN", {1: "A01", 2: "20240422151000+0100", 6: "20240422150000+0100", 7: "RYY02"}),
        seg("PID", {1: "1", 3: "%s^^^NHS^NH~RY2223332^^^RYY^MR" % nhs_number("999222333"),
                    5: "Ó'BRIEN-TESTPATIENT^ZOË^SIÂN^^MISS", 7: "20160229", 8: "F",
                    11: "TŶ GWYN^HEOL Y FRENHINES^TESTTREF^^TE6 1ST^GBR^H",
                    13: "01632 960030^PRN^PH", 32: "NSTS01"}),
        seg("PD1", {3: "MEDDYGFA TEST^^^^^^^^^Z99906", 4: "G9999986^TESTGP^GWENLLÏAN^^^DR"}),
        seg("NK1", {1: "1", 2: "Ó'BRIEN-TESTPATIENT^SEÁN^^^MR", 3: "FTH^Father",
                    4: "TŶ GWYN^HEOL Y FRENHINES^TESTTREF^^TE6 1ST^GBR^H",
                    5: "07700 900030^PRN^CP"}),
        seg("PV1", {1: "1", 2: "I", 3: "PAEDW^BAY4^B11^RYY02", 4: "21",
                    7: "C9999006^DOCTORTEST^BRÍD^^^DR", 10: "420", 19: "RYYIP0300001",
                    44: "20240422150000+0100"}),
        seg("PV2", {3: "^DIFFICULTY IN BREATHING"}),
    ]
    return Msg(segs, "2.5.1", m9, ctrl, "UNICODE UTF-8")


def latin1_a01():
    ctrl = "PAS2403250001"
    m9 = "ADT^A01^ADT_A01"
    segs = [
        msh("PAS", "RXX", "CPISENG", "RXX", "20240325112000+0000", m9, ctrl, "2.4",
            {17: "GBR", 18: "8859/1", 19: "EN"}),
        seg("EVN", {1: "A01", 2: "20240325112000+0000", 6: "20240325111500+0000", 7: "RXX01"}),
        seg("PID", {1: "1", 3: "RX3334448^^^RXX^MR~%s^^^NHS^NH" % nhs_number("999333444"),
                    5: "Lefèvre-Testpatient^Zoë^Renée^^Miss", 7: "20200704", 8: "F",
                    11: "NOËL COTTAGE^CAFÉ LANE^TESTTOWN^^TE7 1ST^GBR^H",
                    13: "01632 960040^PRN^PH", 32: "NSTS01"}),
        seg("PD1", {3: "TEST MEDICAL PRACTICE 7^^Z99907", 4: "G9999987^TESTGP^PAT^^^DR"}),
        seg("NK1", {1: "1", 2: "Lefèvre-Testpatient^Anaïs^^^Mrs", 3: "MTH^Mother",
                    4: "NOËL COTTAGE^CAFÉ LANE^TESTTOWN^^TE7 1ST^GBR^H",
                    5: "07700 900040^PRN^CP"}),
        seg("PV1", {1: "1", 2: "I", 3: "PAEDW^BAY1^B03^RXX01", 4: "21",
                    7: "C9999007^DOCTORTEST^JOSÉ^^^DR", 10: "420", 19: "RXXIP0400001",
                    44: "20240325111500+0000"}),
        seg("PV2", {3: "^DEHYDRATION"}),
    ]
    return Msg(segs, "2.4", m9, ctrl, "8859/1")


def ed_a04(ctrl, stem, mrn, name, dob, sex, visit, ts, arrival, addr, extra_msh=None,
           reason="^WRIST INJURY", app="EDSYS", fac="RXX01", trust="RXX", site="RXX01"):
    m9 = "ADT^A04^ADT_A01"
    segs = [
        msh(app, fac, "CPISENG", trust, ts, m9, ctrl, "2.4",
            dict({17: "GBR", 19: "EN"}, **(extra_msh or {}))),
        seg("EVN", {1: "A04", 2: ts, 6: arrival, 7: site}),
        seg("PID", {1: "1", 3: "%s^^^NHS^NH~%s^^^%s^MR" % (nhs_number(stem), mrn, trust),
                    5: name, 7: dob, 8: sex, 11: addr, 32: "NSTS01"}),
        seg("PD1", {3: "TEST MEDICAL PRACTICE 8^^Z99908", 4: "G9999988^TESTGP^SAM^^^DR"}),
        seg("PV1", {1: "1", 2: "E", 3: "ED^^^" + site, 10: "180", 19: visit, 44: arrival}),
        seg("PV2", {3: reason}),
    ]
    return Msg(segs, "2.4", m9, ctrl)


def lf_a04():
    return ed_a04("EDSYS2403260001", "999444555", "RX4445553", "TERMTEST^LINEFEED^^^MSTR",
                  "20180808", "M", "RXXED0500001", "20240326134500+0000", "20240326134000+0000",
                  "1 NEWLINE ROW^^TESTTOWN^^TE8 1ST^GBR^H")


def crlf_a04():
    return ed_a04("EDSYS2403260002", "999444555", "RX4445553", "TERMTEST^LINEFEED^^^MSTR",
                  "20180808", "M", "RXXED0500002", "20240326190500+0000", "20240326190000+0000",
                  "1 NEWLINE ROW^^TESTTOWN^^TE8 1ST^GBR^H", reason="^FOREIGN BODY IN EAR")


def multi_messages():
    nhs = nhs_number("999555666")
    name = "MULTITEST^ARIA^^^MISS"
    addr = "6 SERIES STREET^^TESTBURY^^TE9 1ST^GBR^H"
    out = []
    for i, (ev, struct, ts, pv1x) in enumerate([
            ("A04", "ADT_A01", "20240327081500+0000", {}),
            ("A08", "ADT_A01", "20240327093000+0000", {3: "ED^PAEDS^P1^RXX01", 7: "C9999008^DOCTORTEST^SAM^^^DR"}),
            ("A03", "ADT_A03", "20240327120000+0000", {3: "ED^PAEDS^P1^RXX01", 36: "19",
                                                      45: "20240327115500+0000"})], start=1):
        ctrl = "EDSYS240327%04d" % i
        m9 = "ADT^%s^%s" % (ev, struct)
        pv1 = {1: "1", 2: "E", 3: "ED^^^RXX01", 10: "180", 19: "RXXED0600001",
               44: "20240327081000+0000"}
        pv1.update(pv1x)
        segs = [
            msh("EDSYS", "RXX01", "CPISENG", "RXX", ts, m9, ctrl, "2.4", {17: "GBR", 19: "EN"}),
            seg("EVN", {1: ev, 2: ts, 6: ts, 7: "RXX01"}),
            seg("PID", {1: "1", 3: "%s^^^NHS^NH~RX5556669^^^RXX^MR" % nhs, 5: name,
                        7: "20220314", 8: "F", 11: addr, 32: "NSTS01"}),
            seg("PD1", {3: "TEST MEDICAL PRACTICE 9^^Z99909", 4: "G9999989^TESTGP^KIM^^^DR"}),
            seg("PV1", pv1),
            seg("PV2", {3: "^EAR PAIN"}),
        ]
        out.append(Msg(segs, "2.4", m9, ctrl))
    return out


def batch():
    msgs = []
    people = [("999666777", "RZ6667774", "BATCHTEST^HARLEY^^^MSTR", "20150505", "M", "A04", "ADT_A01"),
              ("999888999", "RZ8889995", "BATCHTEST^INDIA^^^MISS", "20170717", "F", "A08", "ADT_A01"),
              ("999234567", "RZ2345675", "BATCHTEST^JUDE^^^MSTR", "20191212", "M", "A03", "ADT_A03")]
    for i, (stem, mrn, name, dob, sex, ev, struct) in enumerate(people, start=1):
        ctrl = "PAS24032800%02d" % i
        ts = "202403280%d1500+0000" % (i + 1)
        m9 = "ADT^%s^%s" % (ev, struct)
        pv1 = {1: "1", 2: "E", 3: "ED^^^RZZ01", 10: "180", 19: "RZZED07%05d" % i,
               44: "202403280%d0000+0000" % i}
        if ev == "A03":
            pv1.update({36: "19", 45: ts})
        segs = [
            msh("PAS", "RZZ", "CPISENG", "RZZ", ts, m9, ctrl, "2.4", {17: "GBR", 19: "EN"}),
            seg("EVN", {1: ev, 2: ts, 6: ts, 7: "RZZ01"}),
            seg("PID", {1: "1", 3: "%s^^^RZZ^MR~%s^^^NHS^NH" % (mrn, nhs_number(stem)), 5: name,
                        7: dob, 8: sex, 11: "%d BATCH ROAD^^TESTHAM^^TE9 %dST^GBR^H" % (i, i + 1),
                        32: "NSTS01"}),
            seg("PV1", pv1),
        ]
        msgs.append(Msg(segs, "2.4", m9, ctrl))
    lines = [header("FHS", {3: "PAS", 4: "RZZ", 5: "CPISENG", 6: "RZZ", 7: "20240328050000+0000",
                            9: "RZZ_ADT_20240328.hl7", 11: "RZZF00000001"}),
             header("BHS", {3: "PAS", 4: "RZZ", 5: "CPISENG", 6: "RZZ", 7: "20240328050000+0000",
                            9: "ADT", 11: "RZZB00000001"})]
    for m in msgs:
        lines.extend(m.segments)
    lines.append(seg("BTS", {1: str(len(msgs))}))
    lines.append(seg("FTS", {1: "1"}))
    return lines, msgs


def oru_large(target=65536):
    """ORU^R01 v2.5.1 with paediatric ED vital-sign rounds every 5 minutes, each
    round an ORC/OBR pair and up to seven OBX; filled up to `target` bytes."""
    ctrl = "MONSYS2403290001"
    m9 = "ORU^R01^ORU_R01"
    segs = [
        msh("MONSYS", "RXX01", "CPISENG", "RXX", "20240329180000+0000", m9, ctrl, "2.5.1",
            {15: "", 16: "", 17: "GBR", 19: "EN"}),
        seg("PID", {1: "1", 3: "%s^^^NHS^NH~RX3456780^^^RXX^MR" % nhs_number("999345678"),
                    5: "OBSTEST^KAI^^^MSTR", 7: "20170601", 8: "M",
                    11: "3 MONITOR MEWS^^TESTTOWN^^TE1 9ST^GBR^H", 32: "NSTS01"}),
        seg("PV1", {1: "1", 2: "E", 3: "ED^RESUS^R1^RXX01", 10: "180", 19: "RXXED0800001",
                    44: "20240329120000+0000"}),
    ]
    vitals = [  # code, text, units, low, high, ref, decimals
        ("8867-4", "Heart rate", "/min^per minute^UCUM", 80, 130, "70-120", 0),
        ("9279-1", "Respiratory rate", "/min^per minute^UCUM", 18, 32, "20-28", 0),
        ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry",
         "%^percent^UCUM", 93, 100, "95-100", 0),
        ("8310-5", "Body temperature", "Cel^degree Celsius^UCUM", 364, 392, "36.0-37.9", 1),
        ("8480-6", "Systolic blood pressure", "mm[Hg]^millimetre of mercury^UCUM", 88, 118, "90-110", 0),
        ("8462-4", "Diastolic blood pressure", "mm[Hg]^millimetre of mercury^UCUM", 52, 76, "55-75", 0),
        ("9269-2", "Glasgow coma score total", "{score}^score^UCUM", 14, 15, "15-15", 0),
    ]
    state = [20240329]

    def rnd(lo, hi):  # small deterministic LCG, independent of Python's random module
        state[0] = (state[0] * 1103515245 + 12345) % (2 ** 31)
        return lo + state[0] % (hi - lo + 1)

    size = sum(len(s) + 1 for s in segs)
    start = datetime.datetime(2024, 3, 29, 12, 5)
    rnd_no = 0
    done = False
    while not done:
        rnd_no += 1
        when = (start + datetime.timedelta(minutes=5 * (rnd_no - 1))).strftime("%Y%m%d%H%M%S") + "+0000"
        placer = "RXXVS%06d^EDSYS" % rnd_no
        filler = "RXXMON%06d^MONSYS" % rnd_no
        group = [seg("ORC", {1: "RE", 2: placer, 3: filler, 5: "CM"}),
                 seg("OBR", {1: str(rnd_no), 2: placer, 3: filler,
                             4: "VITALS^Paediatric vital signs^L", 7: when, 22: when, 25: "F"})]
        gsize = sum(len(s) + 1 for s in group)
        if size + gsize > target:
            break
        segs.extend(group)
        size += gsize
        for k, (code, text, units, lo, hi, ref, dec) in enumerate(vitals, start=1):
            v = rnd(lo, hi)
            value = "%d.%d" % (v // 10, v % 10) if dec else str(v)
            rlo, rhi = (float(x) for x in ref.split("-"))
            flag = "L" if float(value) < rlo else ("H" if float(value) > rhi else "N")
            obx = seg("OBX", {1: str(k), 2: "NM", 3: "%s^%s^LN" % (code, text), 5: value,
                              6: units, 7: ref, 8: flag, 11: "F", 14: when,
                              18: "MON-ED-R1^RXX01"})
            if size + len(obx) + 1 > target:
                done = True
                break
            segs.append(obx)
            size += len(obx) + 1
    return Msg(segs, "2.5.1", m9, ctrl)


def bench_a01():
    ctrl = "EDSYS2403151234"
    m9 = "ADT^A01^ADT_A01"
    ts = "20240315143012+0000"
    adm = "20240315142500+0000"
    addr = "27 TEST AVENUE^FLAT 2^TESTTOWN^TESTSHIRE^TE2 9ST^GBR^H"
    segs = [
        msh("EDSYS", "RXX01", "CPISENG", "RXX", ts, m9, ctrl, "2.4", {17: "GBR", 19: "EN"}),
        seg("EVN", {1: "A01", 2: ts, 5: "ED1234^TESTNURSE^KIM^^^^^^RXX", 6: adm, 7: "RXX01"}),
        seg("PID", {1: "1", 3: "%s^^^NHS^NH~RX4567896^^^RXX^MR" % nhs_number("999456789"),
                    5: "BENCHTEST^RILEY^MORGAN^^MSTR", 7: "20180923", 8: "M", 11: addr,
                    13: "01632 960112^PRN^PH~07700 900112^PRN^CP", 15: "en^English^ISO639",
                    22: "A^White - British^NHSETH", 32: "NSTS01"}),
        seg("PD1", {3: "TEST MEDICAL PRACTICE 2^^Z99902", 4: "G9999982^TESTGP^ROBIN^^^DR"}),
        seg("NK1", {1: "1", 2: "BENCHTEST^CHARLIE^^^MRS", 3: "MTH^Mother^HL70063", 4: addr,
                    5: "07700 900113^PRN^CP", 7: "N^Next-of-Kin^HL70131"}),
        seg("PV1", {1: "1", 2: "I", 3: "PAEDW^BAY3^B07^RXX01", 4: "21",
                    6: "ED^MAJ^C5^RXX01", 7: "C9999004^DOCTORTEST^AVERY^^^DR",
                    8: "G9999982^TESTGP^ROBIN^^^DR", 10: "420",
                    14: "19", 17: "C9999004^DOCTORTEST^AVERY^^^DR", 18: "02",
                    19: "RXXIP0004567", 39: "RXX01", 44: adm}),
        seg("PV2", {3: "J459^ACUTE EXACERBATION OF ASTHMA^I10", 8: "20240315", 9: "20240318",
                    10: "3"}),
        seg("AL1", {1: "1", 2: "DA", 3: "DPEN^Penicillin^L", 4: "MO", 5: "RASH", 6: "20210611"}),
        seg("AL1", {1: "2", 2: "FA", 3: "FPEANUT^Peanut^L", 4: "SV", 5: "ANAPHYLAXIS",
                    6: "20200302"}),
        seg("OBX", {1: "1", 2: "NM", 3: "29463-7^Body weight^LN", 5: "22.6",
                    6: "kg^kilogram^UCUM", 11: "F", 14: "20240315140000+0000"}),
        seg("OBX", {1: "2", 2: "NM", 3: "59408-5^Oxygen saturation by Pulse oximetry^LN",
                    5: "91", 6: "%^percent^UCUM", 7: "95-100", 8: "L", 11: "F",
                    14: "20240315140000+0000", 18: "MON-ED-C5^RXX01"}),
        seg("OBX", {1: "3", 2: "NM", 3: "8867-4^Heart rate^LN", 5: "134",
                    6: "/min^per minute^UCUM", 7: "70-120", 8: "H", 11: "F",
                    14: "20240315140000+0000", 18: "MON-ED-C5^RXX01"}),
        seg("DG1", {1: "1", 3: "J459^Asthma, unspecified^I10", 4: "Asthma, unspecified",
                    5: adm, 6: "A"}),
        seg("DG1", {1: "2", 3: "Z880^Personal history of allergy to penicillin^I10",
                    5: adm, 6: "W"}),
    ]
    return Msg(segs, "2.4", m9, ctrl)


def trunc_v27():
    ctrl = "EPR2404100001"
    m9 = "ADT^A01^ADT_A01"
    segs = [
        header("MSH", {3: "EPR", 4: "RYY", 5: "CPISENG", 6: "RYY", 7: "20240410091500+0100",
                       9: m9, 10: ctrl, 11: "P", 12: "2.7", 17: "GBR", 19: "EN"}, enc=ENC + "#"),
        seg("EVN", {2: "20240410091500+0100", 6: "20240410090000+0100", 7: "RYY02"}),
        seg("PID", {1: "1", 3: "%s^^^NHS^NH~RY6789012^^^RYY^MR" % nhs_number("999678901"),
                    5: "TRUNCTEST^EDEN^^^MISS", 7: "20190422", 8: "F",
                    11: "FLAT \\P\\2 TESTING HOUSE^^TESTWICK^^TE4 9ST^GBR^H", 32: "NSTS01"}),
        seg("PV1", {1: "1", 2: "I", 3: "PAEDW^BAY2^B06^RYY02", 4: "21", 10: "420",
                    19: "RYYIP0900001", 44: "20240410090000+0100"}),
    ]
    return Msg(segs, "2.7", m9, ctrl)


CUSTOM = str.maketrans({"|": "!", "^": "@", "~": "*", "\\": "$", "&": "%"})


def custom_a04():
    """Built with the standard delimiters, then every delimiter is translated to
    MSH-1 '!' and MSH-2 '@*$%' (component @, repetition *, escape $, sub-component %)."""
    ctrl = "EDSYS2403300001"
    m9 = "ADT^A04^ADT_A01"
    nhs = nhs_number("999789012")
    segs = [
        msh("EDSYS", "RXX01", "CPISENG", "RXX", "20240330221500+0000", m9, ctrl, "2.4",
            {17: "GBR", 19: "EN"}),
        seg("EVN", {1: "A04", 2: "20240330221500+0000", 6: "20240330221000+0000", 7: "RXX01"}),
        seg("PID", {1: "1", 3: "%s^^^NHS&2.16.840.1.113883.2.1.4.1&ISO^NH~RX7890124^^^RXX^MR" % nhs,
                    5: "DELIMTEST^ROWAN^^^MSTR", 7: "20160101", 8: "M",
                    11: "10 SEPARATOR STREET^^TESTPOOL^^TE5 9ST^GBR^H",
                    13: "01632 960050^PRN^PH~07700 900050^PRN^CP", 32: "NSTS01"}),
        seg("PV1", {1: "1", 2: "E", 3: "ED^^^RXX01", 10: "180", 19: "RXXED1000001",
                    44: "20240330221000+0000"}),
        seg("PV2", {3: "^FELL OFF TRAMPOLINE\\F\\"}),
    ]
    for s in segs:
        assert not set(s) & set("!@*$%"), s
    segs = [s.translate(CUSTOM) for s in segs]
    return Msg(segs, "2.4", m9.translate(CUSTOM), ctrl)


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------

def build():
    """Return an ordered list of (filename, bytes, manifest_row)."""
    _seq[0] = 0
    files = []

    def add(name, msgs, data):
        first = msgs[0]
        files.append((name, data, (name, str(len(msgs)), first.version, first.msh9,
                                   first.control_id, first.charset)))

    def cr(segments, encoding="ascii"):
        return "".join(s + CR for s in segments).encode(encoding)

    for event in ("A01", "A02", "A03", "A04", "A08", "A11", "A13", "A28", "A31", "A40"):
        for version in ("2.3", "2.4", "2.5.1"):
            m = adt(event, version)
            add("adt_%s_%s.hl7" % (event.lower(), VSUFFIX[version]), [m], cr(m.segments))

    m = itk_a04()
    add("nhs_england_itk_a04.hl7", [m], cr(m.segments))
    lines, msgs = batch()
    add("batch_adt.hl7", msgs, cr(lines))
    m = utf8_a01()
    add("utf8_a01.hl7", [m], cr(m.segments, "utf-8"))
    m = latin1_a01()
    add("latin1_a01.hl7", [m], cr(m.segments, "latin-1"))
    m = lf_a04()
    add("lf_terminated_a04.hl7", [m], "".join(s + "\n" for s in m.segments).encode("ascii"))
    m = crlf_a04()
    add("crlf_terminated_a04.hl7", [m], "".join(s + "\r\n" for s in m.segments).encode("ascii"))
    msgs = multi_messages()
    add("multi_message.hl7", msgs, cr([s for mm in msgs for s in mm.segments]))
    m = oru_large()
    add("oru_r01_large.hl7", [m], cr(m.segments))
    m = bench_a01()
    add("adt_a01_bench.hl7", [m], cr(m.segments))
    m = trunc_v27()
    add("truncation_v27_a01.hl7", [m], cr(m.segments))
    m = custom_a04()
    add("custom_delimiters_a04.hl7", [m], cr(m.segments))

    names = [f[0] for f in files]
    assert len(set(names)) == len(names)
    rows = sorted(f[2] for f in files)
    manifest = "file\tmessages\tversion\tmsh9\tcontrol_id\tcharset\n" + \
        "".join("\t".join(r) + "\n" for r in rows)
    files.append(("manifest.tsv", manifest.encode("ascii"), None))
    return files


def write(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, data, _ in build():
        with open(os.path.join(out_dir, name), "wb") as fh:
            fh.write(data)


# ---------------------------------------------------------------------------
# checking (independent re-parse of the files on disk)
# ---------------------------------------------------------------------------

EXPECTED_SEGMENTS = {
    # event: segment ids after MSH [SFT] (Z-segments are ignored here)
    "A01": ["EVN", "PID", "PD1", "NK1", "PV1", "PV2", "OBX", "DG1"],
    "A02": ["EVN", "PID", "PD1", "PV1", "PV2"],
    "A03": ["EVN", "PID", "PD1", "PV1", "PV2", "DG1"],
    "A04": ["EVN", "PID", "PD1", "NK1", "PV1", "PV2"],
    "A08": ["EVN", "PID", "PD1", "NK1", "PV1", "PV2"],
    "A11": ["EVN", "PID", "PD1", "PV1"],
    "A13": ["EVN", "PID", "PD1", "NK1", "PV1", "PV2"],
    "A28": ["EVN", "PID", "PD1", "NK1", "PV1"],
    "A31": ["EVN", "PID", "PD1", "NK1", "PV1"],
    "A40": ["EVN", "PID", "PD1", "MRG", "PV1"],
}


def split_segments(data):
    text = data.decode("latin-1")          # byte-transparent for delimiter work
    if text.endswith("\r\n"):
        term = "\r\n"
    elif text.endswith("\r"):
        term = "\r"
    elif text.endswith("\n"):
        term = "\n"
    else:
        raise AssertionError("no segment terminator at end of file")
    segs = text[:-len(term)].split(term)
    for s in segs:
        assert s and "\r" not in s and "\n" not in s, repr(s[:40])
    return segs, term


def msh_fields(segment):
    sep = segment[3]
    parts = segment.split(sep)
    # parts[0] == 'MSH'; MSH-1 is sep, so MSH-n == parts[n-1] for n >= 2
    return {n: (sep if n == 1 else parts[n - 1]) for n in range(1, len(parts) + 1)}


def check(folder):
    problems = []

    def expect(cond, msg):
        if not cond:
            problems.append(msg)

    # 1. reproducibility
    with tempfile.TemporaryDirectory() as tmp:
        write(tmp)
        for name in sorted(os.listdir(tmp)):
            with open(os.path.join(tmp, name), "rb") as a, open(os.path.join(folder, name), "rb") as b:
                expect(a.read() == b.read(), "%s differs from a fresh generation" % name)
        on_disk = {n for n in os.listdir(folder) if n.endswith(".hl7")}
        expect(on_disk == {n for n in os.listdir(tmp) if n.endswith(".hl7")},
               "set of .hl7 files differs from generator output")

    # 2. manifest vs independent parse
    with open(os.path.join(folder, "manifest.tsv"), "rb") as fh:
        lines = fh.read().decode("ascii").split("\n")
    expect(lines[0] == "file\tmessages\tversion\tmsh9\tcontrol_id\tcharset", "manifest header")
    expect(lines[-1] == "", "manifest should end with a newline")
    rows = [l.split("\t") for l in lines[1:-1]]
    all_ctrl = []
    for row in rows:
        expect(len(row) == 6, "manifest row has %d columns: %r" % (len(row), row))
        name, nmsg, version, msh9, ctrl, charset = row
        with open(os.path.join(folder, name), "rb") as fh:
            data = fh.read()
        segs, term = split_segments(data)
        want_term = {"lf_terminated_a04.hl7": "\n", "crlf_terminated_a04.hl7": "\r\n"}.get(name, "\r")
        expect(term == want_term, "%s: terminator %r" % (name, term))
        if term == "\r":
            expect(b"\n" not in data, "%s: contains LF" % name)
        mshs = [s for s in segs if s.startswith("MSH")]
        expect(str(len(mshs)) == nmsg, "%s: %d MSH vs manifest %s" % (name, len(mshs), nmsg))
        f = msh_fields(mshs[0])
        expect(f[12] == version, "%s: MSH-12 %r" % (name, f[12]))
        expect(f[9] == msh9, "%s: MSH-9 %r" % (name, f[9]))
        expect(f[10] == ctrl, "%s: MSH-10 %r" % (name, f[10]))
        expect(f.get(18, "") == charset, "%s: MSH-18 %r" % (name, f.get(18, "")))
        expect(f[11] == "P", "%s: MSH-11" % name)
        for s in mshs:
            c = msh_fields(s)[10]
            expect(len(c) <= 20, "%s: control id too long" % name)
            all_ctrl.append(c)
        # charset-specific byte checks
        if charset == "UNICODE UTF-8":
            txt = data.decode("utf-8")
            expect(any(ord(ch) > 0x7F for ch in txt), "%s: no non-ASCII" % name)
        elif charset == "8859/1":
            expect(b"\xcb" in data and b"\xe9" in data, "%s: Latin-1 bytes missing" % name)
            try:
                data.decode("utf-8")
                problems.append("%s: Latin-1 file is also valid UTF-8" % name)
            except UnicodeDecodeError:
                pass
        else:
            expect(all(b < 0x80 for b in data), "%s: non-ASCII byte" % name)
        sep, comp, rep = f[1], f[2][0], f[2][1]
        # PID checks: NHS numbers valid, PID-32 where the version has it
        for s in segs:
            if s.startswith("PID" + sep):
                p = s.split(sep)
                ids = [x.split(comp)[0] for x in p[3].split(rep)] + [p[2]] if len(p) > 3 else []
                nhs = [x for x in ids if x.startswith("999") and len(x) == 10]
                expect(nhs and all(nhs_valid(x) for x in nhs), "%s: NHS number %r" % (name, nhs))
                if version != "2.3":
                    expect(len(p) == 33 and p[32] == "NSTS01",
                           "%s: PID-32 %r (PID has %d fields)" % (name, p[32:33], len(p) - 1))
                else:
                    expect(len(p) <= 31, "%s: 2.3 PID longer than 30 fields" % name)
        # ADT structure checks for the 30 event/version files
        if name.startswith("adt_a") and name[7] == "_" and "bench" not in name:
            event = "A" + name[5:7]
            ids = [s[:3] for s in segs if not s.startswith("Z")]
            body = ids[1:]
            if body and body[0] == "SFT":
                body = body[1:]
            expect(ids[0] == "MSH" and body == EXPECTED_SEGMENTS[event],
                   "%s: segments %r" % (name, ids))
            expect(f[9].split("^")[1] == event, "%s: MSH-9 event" % name)
            pv1 = [s for s in segs if s.startswith("PV1|")][0].split("|")
            if event in ("A28", "A31", "A40") and version != "2.3":
                expect(pv1[2] == "N", "%s: PV1-2 %r" % (name, pv1[2]))
        if name == "batch_adt.hl7":
            expect(segs[0].startswith("FHS|") and segs[1].startswith("BHS|"), "batch header")
            expect(segs[-2] == "BTS|3" and segs[-1] == "FTS|1", "batch trailer")
        if name == "oru_r01_large.hl7":
            expect(abs(len(data) - 65536) <= 2048, "%s: size %d" % (name, len(data)))
        if name == "adt_a01_bench.hl7":
            expect(1450 <= len(data) <= 1550, "%s: size %d" % (name, len(data)))
        if name == "truncation_v27_a01.hl7":
            expect(f[2] == "^~\\&#", "%s: MSH-2 %r" % (name, f[2]))
        if name == "custom_delimiters_a04.hl7":
            expect(f[1] == "!" and f[2] == "@*$%", "%s: MSH-1/2" % name)
            expect(not set("|^~\\&") & set(data.decode("ascii")), "%s: standard delimiter left" % name)
        if name == "nhs_england_itk_a04.hl7":
            expect((f[17], f[19], f[21]) == ("GBR", "EN", "ITKv1.0"), "ITK MSH-17/19/21")
            e = [s for s in segs if s.startswith("EVN|")][0].split("|")
            expect(e[2] and e[6], "ITK EVN-2/EVN-6")
            expect(any(s.startswith("ZU3|") for s in segs), "ITK ZU3")
    expect(len(set(all_ctrl)) == len(all_ctrl), "duplicate control ids")
    listed = {r[0] for r in rows}
    on_disk = {n for n in os.listdir(folder) if n.endswith(".hl7")}
    expect(listed == on_disk, "manifest does not list exactly the .hl7 files: %r" % (listed ^ on_disk))
    return problems


def main(argv):
    if "--check" in argv:
        problems = check(HERE)
        for p in problems:
            print("FAIL:", p)
        print("%d problem(s)" % len(problems))
        return 1 if problems else 0
    out = HERE
    if "--out" in argv:
        out = argv[argv.index("--out") + 1]
    write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
