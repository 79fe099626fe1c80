// The .data parser: sections, numbers, line numbers, and its errors.
#include "conformance/data_file.h"

#include <gtest/gtest.h>

namespace bpfkit::conformance {
namespace {

std::string parse_error(const std::string& text) {
  try {
    parse_data_file(text, "t.data");
  } catch (const DataFileError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataFile, AllSections) {
  const DataFile f = parse_data_file(
      "# Copyright line\n"
      "-- asm\n"
      "mov %r0, 1  # trailing comment\n"
      "\n"
      "exit\n"
      "-- mem\n"
      "00 01 ff\n"
      "7f\n"
      "-- result\n"
      "0x1122334455667788\n"
      "-- c\n"
      "int x; -- not a section: it does not start the line\n"
      "-- no register offset\n"
      "call instruction\n",
      "t.data");
  EXPECT_EQ(f.name, "t.data");
  ASSERT_TRUE(f.asm_text);
  // Line numbers survive: the asm text has blank lines where the file has other text.
  EXPECT_EQ(*f.asm_text, "\n\nmov %r0, 1  \n\nexit\n\n\n\n\n\n\n\n\n\n");
  EXPECT_FALSE(f.raw);
  ASSERT_TRUE(f.mem);
  EXPECT_EQ(*f.mem, (std::vector<uint8_t>{0x00, 0x01, 0xff, 0x7f}));
  EXPECT_EQ(f.result, 0x1122334455667788ull);
  EXPECT_FALSE(f.error);
}

TEST(DataFile, RawSlotsAreLittleEndianNumbers) {
  const DataFile f = parse_data_file(
      "-- raw\n0x5566778800000018\n0x1122334400000000\n0x0000000000000095\n"
      "-- result\n0x0\n",
      "t.data");
  ASSERT_TRUE(f.raw);
  ASSERT_EQ(f.raw->size(), 3u);
  EXPECT_EQ((*f.raw)[0].opcode, 0x18);
  EXPECT_EQ((*f.raw)[0].imm, 0x55667788);
  EXPECT_EQ((*f.raw)[1].imm, 0x11223344);
  EXPECT_EQ((*f.raw)[2].opcode, 0x95);
}

TEST(DataFile, RawBytesEightPerLine) {
  const DataFile f = parse_data_file(
      "# comment\n-- raw\n07 10 fe ff 01 00 00 00\n95 00 00 00 00 00 00 00\n-- error\n", "t.data");
  ASSERT_TRUE(f.raw);
  ASSERT_EQ(f.raw->size(), 2u);
  EXPECT_EQ((*f.raw)[0].opcode, 0x07);
  EXPECT_EQ((*f.raw)[0].dst, 0);
  EXPECT_EQ((*f.raw)[0].src, 1);
  EXPECT_EQ((*f.raw)[0].off, -2);
  EXPECT_EQ((*f.raw)[0].imm, 1);
  ASSERT_TRUE(f.error);
  EXPECT_EQ(*f.error, "");  // empty: must be rejected, whatever the message
  EXPECT_FALSE(f.result);
}

TEST(DataFile, ErrorTextAndDecimalResult) {
  const DataFile f = parse_data_file("-- asm\nexit\n-- error\nInvalid register\n-- result\n42\n", "t.data");
  EXPECT_EQ(f.error, "Invalid register");
  EXPECT_EQ(f.result, 42u);
}

TEST(DataFile, WindowsLineEndings) {
  const DataFile f = parse_data_file("-- asm\r\nexit\r\n-- result\r\n0x2\r\n", "t.data");
  EXPECT_EQ(f.result, 2u);
  EXPECT_EQ(*f.asm_text, "\nexit\n\n\n");
}

TEST(DataFile, Errors) {
  EXPECT_EQ(parse_error(""), "t.data: no -- asm or -- raw section: the file holds no program");
  EXPECT_EQ(parse_error("-- result\n0x0\n"),
            "t.data: no -- asm or -- raw section: the file holds no program");
  EXPECT_EQ(
      parse_error("-- asm\n-- Unknown directive\n"),
      "t.data:2: unknown section '-- Unknown directive' (known: asm, raw, mem, result, error, c, no register "
      "offset)");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- asm\nexit\n"), "t.data:3: section '-- asm' appears twice");
  EXPECT_EQ(parse_error("mov %r0, 1\n-- asm\nexit\n"),
            "t.data:1: 'mov %r0, 1' is outside any section (sections start with '-- ')");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- mem\n00 1g\n"), "t.data:4: '1g' in -- mem is not a hex byte");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- mem\n100\n"), "t.data:4: '100' in -- mem is not a hex byte");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- result\n0x1 0x2\n"),
            "t.data:4: -- result holds one number, the expected r0");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- result\n0x1\n0x2\n"),
            "t.data:5: -- result holds one number, the expected r0");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- result\n0xzz\n"),
            "t.data:4: '0xzz' is not a 64-bit number (0x... for hex)");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- result\n0x10000000000000000\n"),
            "t.data:4: '0x10000000000000000' is not a 64-bit number (0x... for hex)");
  EXPECT_EQ(parse_error("-- asm\nexit\n-- result\n\n-- mem\n"), "t.data:3: -- result is empty");
  EXPECT_EQ(parse_error("-- raw\n95 00 00 00\n"),
            "t.data:1: -- raw holds 4 bytes, not a whole number of 8-byte instructions");
  EXPECT_EQ(parse_error("-- raw\n95 00\n0x95\n"), "t.data:3: a whole instruction follows an incomplete one");
  EXPECT_EQ(parse_error("-- raw\n# nothing\n"), "t.data: -- raw holds no instructions");
}

}  // namespace
}  // namespace bpfkit::conformance
