#!/usr/bin/env python3
"""Writes conformance/samples/feed-capture/: a synthetic capture of an ED / maternity / ward ADT
feed, as a trust would collect it before go-live, for `cpis-conformance analyse` (its tests and
docs/conformance.md). Every person, number and site here is made up: NHS numbers are in the
999 test range, site codes start RZZ (not an ODS code).

The capture mixes what real feeds send: plain files with CR, LF and CRLF endings, MLLP-framed
captures with bytes between frames and an unfinished frame, an FHS/BHS batch whose trailer
miscounts, character-set mistakes, unreadable messages, and decisions of every kind.

It also writes feed-capture-identifiers.txt (outside the capture folder): every patient
identifier the capture holds, one a line, which the tests assert never reach the report.

    python3 conformance/samples/generate_feed_capture.py
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "feed-capture")
IDENTIFIERS = []


def nhs_number(stem):
    """The 999 test-range number whose first nine digits are `stem` (a valid checksum)."""
    digits = [int(c) for c in stem]
    total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10:
        raise ValueError(stem)
    return stem + str(check)


def invalid_nhs_number(stem):
    valid = nhs_number(stem)
    return valid[:9] + str((int(valid[9]) + 1) % 10)


def remember(*values):
    for v in values:
        if v and v not in IDENTIFIERS:
            IDENTIFIERS.append(v)


def adt(control, event, family, given, dob, sex, nhs=None, status="NSTS01", location="EDMAJ^^^RZZ01",
        patient_class="E", treatment="180", visit=None, mrn=None, charset="UNICODE UTF-8",
        arrived="20250612142900+0100", extra=(), msh9=None, version="2.4", address=None, phone=None):
    """One ADT message as a list of segments (no terminators)."""
    remember(family, given, dob, nhs, visit, mrn, phone, *(address or "").split("^"))
    pid3 = []
    if mrn:
        pid3.append(mrn + "^^^RZZ^MR")
    if nhs:
        pid3.append(nhs + "^^^NHS^NH")
    pid = ["PID", "1", "", "~".join(pid3), "", family + "^" + given + "^^^^^L", "", dob, sex, "", "",
           address or "", "", phone or ""]
    pid += [""] * (32 - len(pid) + 1)
    pid[32] = status
    pv1 = ["PV1", "1", patient_class, location] + [""] * 6 + [treatment] + [""] * 8 + [
        (visit + "^^^RZZ^VN") if visit else ""] + [""] * 24 + [arrived]
    return [
        "|".join(["MSH", "^~\\&", "EDSYS", "RZZ01", "CPIS-ENGINE", "RZZ", "20250612143005+0100", "",
                  msh9 or ("ADT^" + event + "^ADT_A01"), control, "P", version, "", "", "", "", "GBR", charset,
                  "EN"]),
        "EVN|" + event + "|20250612143005+0100||||" + arrived,
        "|".join(pid),
        "|".join(pv1),
    ] + list(extra)


def join(messages, ending="\r"):
    return "".join(ending.join(m) + ending for m in messages).encode("utf-8")


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))

    n = [nhs_number("99900%04d" % i) for i in range(1, 40) if _ok("99900%04d" % i)]

    # 1. The ED's day: a plain file, CR endings, one message after another.
    ed = [
        adt("ED0001001", "A04", "QUILLFEATHER", "Zebedee", "20150403", "M", nhs=n[0], visit="A250612001",
            mrn="K4455667", address="1 Lantern Row^^Leeds^^LS1 4ZZ", phone="01134960001"),
        adt("ED0001002", "A08", "QUILLFEATHER", "Zebedee", "20150403", "M", nhs=n[0], visit="A250612001",
            mrn="K4455667"),
        adt("ED0001003", "A04", "MARROWBY", "Tamsin", "20190911", "F", nhs=n[1], visit="A250612002",
            mrn="K4455668", location="EDPAED^^^RZZ01"),
        adt("ED0001004", "A04", "OAKENSHAW", "Barnaby", "19800214", "M", nhs=n[2], visit="A250612003",
            mrn="K4455669"),
        adt("ED0001005", "A04", "FENWICKSON", "Ottoline", "20120101", "F", nhs=invalid_nhs_number("999000123"),
            visit="A250612004", mrn="K4455670"),
        adt("ED0001006", "A04", "HOLLINGSWORTH", "Perpetua", "20160704", "F", visit="A250612005",
            mrn="K4455671"),
        adt("ED0001007", "A04", "TREMAYNEVICH", "Caspian", "20100505", "M", nhs=n[3], status="NSTS02",
            visit="A250612006", mrn="K4455672"),
        adt("ED0001008", "A04", "WIDDLECOMBE", "Araminta", "20140808", "F", nhs=n[4], status="03",
            visit="A250612007", mrn="K4455673"),
        adt("ED0001009", "A04", "PEABODYSMITH", "Florian", "20130303", "M", nhs=n[5], status="",
            visit="A250612008", mrn="K4455674"),
        adt("ED0001010", "A03", "QUILLFEATHER", "Zebedee", "20150403", "M", nhs=n[0], visit="A250612001",
            mrn="K4455667"),
        adt("ED0001011", "A28", "GRISEWOOD", "Hepzibah", "20180228", "F", nhs=n[6], mrn="K4455675"),
        adt("ED0001012", "A04", "ASHCROFTLEY", "Peregrine", "20170606", "M", nhs=n[7], visit="A250612009",
            mrn="K4455676", location="XRAY^^^RZZ01", treatment="812"),
        adt("ED0001013", "A04", "BRAMBLEHURST", "Clementine", "20161212", "F", nhs=n[8], visit="A250612010",
            mrn="K4455677", location="PHLEB^^^RZZ03", patient_class="O", treatment="300"),
        adt("ED0001014", "A04", "BRAMBLEHURST", "Ignatius", "20161212", "M", nhs=n[9], visit="A250612011",
            mrn="K4455678", location="PHLEB^^^RZZ03", patient_class="O", treatment="300"),
        adt("ED0001015", "A04", "COBBLEDICK", "Wilhelmina", "20110909", "F", nhs="3333333333",
            visit="A250612012", mrn="K4455679"),
    ]
    write("ed-2025-06-12.hl7", join(ed))

    # 2. A listener capture: MLLP frames, a line feed between them, noise, an unfinished frame.
    maternity = adt("MT0002001", "A01", "LARKSPURWELL", "Josephine", "19990704", "F", nhs=n[10],
                    visit="M250620002", mrn="K7788990", location="MATADM^^^RZZ01", patient_class="B",
                    treatment="501", extra=["OBX|1|CE|82810-3^Pregnancy status^LN||77386006^Pregnant^SCT||||||F",
                                            "OBX|2|DT|11778-8^Delivery date Estimated^LN||20250902||||||F"])
    ward = adt("WD0002002", "A01", "THISTLEDOWN", "Robin", "20200815", "U", nhs=n[11], visit="I250301003",
               mrn="K5566778", location="WARD7^B2^3^RZZ01", patient_class="I", treatment="420")
    preadmit = adt("ED0002003", "A05", "NIGHTINGALEY", "Eustace", "20180118", "M", nhs=n[12],
                   visit="A250612013", mrn="K4455680")
    unfinished = adt("ED0002004", "A04", "POMFREYSON", "Leopold", "20150505", "M", nhs=n[13],
                     visit="A250612014", mrn="K4455681")
    frame = lambda m: b"\x0b" + join([m]) + b"\x1c\r"
    capture = (frame(maternity) + b"\n" + frame(ward)[:-1] + b"KEEPALIVE\n" + frame(preadmit) +
               b"\x0b" + join([unfinished]))
    write("listener-capture.mllp", capture)

    # 3. A nightly batch: FHS/BHS, LF endings, a BTS that counts one message too many.
    batch_messages = [
        adt("BT0003001", "A04", "ROOKWOODE", "Philippa", "20140214", "F", nhs=n[14], visit="A250613001",
            mrn="K4455682", location="UTC^^^RZZ01"),
        adt("BT0003002", "A04", "SPINDLESHANK", "Horatio", "20120620", "M", nhs=n[15], visit="A250613002",
            mrn="K4455683", location="MIU^^^RZZ02"),
        adt("BT0003003", "A02", "SPINDLESHANK", "Horatio", "20120620", "M", nhs=n[15], visit="A250613002",
            mrn="K4455683", location="WARD7^B1^2^RZZ01", patient_class="I", treatment="420"),
    ]
    batch = ["FHS|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250613020000+0100", "BHS|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250613020000+0100"]
    for m in batch_messages:
        batch += m
    batch += ["BTS|4", "FTS|1"]
    write("nightly-batch.txt", ("\n".join(batch) + "\n").encode("utf-8"))

    # 4. An export from a Windows tool: CRLF endings, one message with mixed endings, and the
    #    character-set mistakes feeds make.
    latin1 = adt("WX0004001", "A04", "DELACOUR-BRONTË", "Zoë", "20150909", "F", nhs=n[16], visit="A250614001",
                 mrn="K4455684", charset="")
    remember("DELACOUR-BRONT", "Zo")
    utf8_as_latin1 = adt("WX0004002", "A04", "MÜLLERSTRAND", "Jürgen", "20160101", "M", nhs=n[17],
                         visit="A250614002", mrn="K4455685", charset="8859/1")
    invalid_utf8 = adt("WX0004003", "A04", "OCONNELLY", "Siobhan", "20170202", "F", nhs=n[18],
                       visit="A250614003", mrn="K4455686")
    mixed = adt("WX0004004", "A04", "FAIRWEATHERBY", "Octavia", "20150303", "F", nhs=n[19], visit="A250614004",
                mrn="K4455687")
    data = ("\r\n".join(latin1) + "\r\n").encode("latin-1")
    data += ("\r\n".join(utf8_as_latin1) + "\r\n").encode("utf-8")
    data += ("\r\n".join(invalid_utf8) + "\r\n").encode("utf-8").replace(b"OCONNELLY", b"O\xc3\x28CONNELLY")
    data += (mixed[0] + "\r\n" + mixed[1] + "\n" + mixed[2] + "\r" + mixed[3] + "\r\n").encode("utf-8")
    write("windows-export.hl7", data)
    remember("MÜLLERSTRAND", "Jürgen", "CONNELLY")

    # 5. Messages the engine cannot take.
    no_control_id = adt("", "A04", "GOSLINGTHWAITE", "Anselm", "20140404", "M", nhs=n[20], visit="A250615001",
                        mrn="K4455688")
    bad_segment = adt("BR0005002", "A04", "HUMBLESTONE", "Griselda", "20150515", "F", nhs=n[21],
                      visit="A250615002", mrn="K4455689")
    bad_segment[2] = "PI" + bad_segment[2][3:]
    no_visit = adt("BR0005003", "A04", "KNIGHTSBRIDGE", "Evander", "20160616", "M", nhs=n[22], mrn="K4455690")
    bad_dob = adt("BR0005004", "A04", "LOXLEYWOOD", "Marigold", "2015-07-3x", "F", nhs=n[23],
                  visit="A250615004", mrn="K4455691")
    utf16 = adt("BR0005005", "A04", "MORTLAKEBY", "Cuthbert", "20180808", "M", nhs=n[24], visit="A250615005",
                mrn="K4455692", charset="UNICODE UTF-16")
    oru = ["MSH|^~\\&|LAB|RZZ01|CPIS-ENGINE|RZZ|20250615100000+0100||ORU^R01^ORU_R01|BR0005006|P|2.4",
           "PID|1||K4455693^^^RZZ^MR||NETTLEFOLD^Rosamund||20100110|F",
           "OBR|1||LAB123|1234-5^Full blood count^LN",
           "OBX|1|NM|718-7^Haemoglobin^LN||128|g/L|||||F"]
    remember("K4455693", "NETTLEFOLD", "Rosamund", "20100110")
    write("rejected.hl7", join([no_control_id, bad_segment, no_visit, bad_dob, utf16, oru]))

    # 6. A file saved by an editor that adds a byte order mark.
    bom = adt("BM0006001", "A04", "QUENTINSHAW", "Imogen", "20190119", "F", nhs=n[25], visit="A250616001",
              mrn="K4455694", location="EDPAED^^^RZZ01")
    write("editor-saved.hl7", b"\xef\xbb\xbf" + join([bom]))

    with open(os.path.join(HERE, "feed-capture-identifiers.txt"), "w", encoding="utf-8") as f:
        f.write("# Every patient identifier in feed-capture/ (generate_feed_capture.py): none may appear\n"
                "# in a readiness report. NHS numbers also in their spaced form.\n")
        for v in IDENTIFIERS:
            f.write(v + "\n")
            if len(v) == 10 and v.isdigit():
                f.write(v[:3] + " " + v[3:6] + " " + v[6:] + "\n")


def _ok(stem):
    try:
        nhs_number(stem)
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    main()
