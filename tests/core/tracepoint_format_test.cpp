// Tracefs format files: the real ones of this kernel and synthetic, malformed text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/tracepoint_format.h"

namespace bpfkit::core {
namespace {

const char kOpenat[] =
    "name: sys_enter_openat\n"
    "ID: 782\n"
    "format:\n"
    "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
    "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
    "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
    "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
    "\n"
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
    "\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
    "\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
    "\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
    "\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n"
    "\n"
    "print fmt: \"dfd: 0x%08lx, filename: 0x%08lx\", ((unsigned long)(REC->dfd)),\n"
    " ((unsigned long)(REC->filename))\n";

void expect_openat(const TracepointFormat& f) {
  EXPECT_EQ(f.id, 782u);
  ASSERT_EQ(f.fields.size(), 9u);
  EXPECT_EQ(f.size(), 48u);
  const TracepointField* nr = f.find("__syscall_nr");
  ASSERT_NE(nr, nullptr);
  EXPECT_EQ(nr->type, "int");
  EXPECT_EQ(nr->offset, 8u);
  EXPECT_EQ(nr->size, 4u);
  EXPECT_TRUE(nr->is_signed);
  EXPECT_FALSE(nr->common);
  const TracepointField* filename = f.find("filename");
  ASSERT_NE(filename, nullptr);
  EXPECT_EQ(filename->type, "const char *");
  EXPECT_EQ(filename->offset, 24u);
  EXPECT_EQ(filename->size, 8u);
  EXPECT_FALSE(filename->is_signed);
  EXPECT_EQ(filename->array_len, 0u);
  EXPECT_TRUE(f.find("common_pid")->common);
  EXPECT_TRUE(f.find("common_pid")->is_signed);
  EXPECT_EQ(f.find("mode")->type, "umode_t");
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(TracepointFormatTest, ParsesASyscallFormat) {
  TracepointFormat f = parse_tracepoint_format(kOpenat, "syscalls");
  EXPECT_EQ(f.category, "syscalls");
  EXPECT_EQ(f.name, "sys_enter_openat");  // from the name: line when not given
  expect_openat(f);
}

TEST(TracepointFormatTest, ArraysDataLocAndRelLoc) {
  const char text[] =
      "name: t\nID: 5\nformat:\n"
      "\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
      "\tfield:__data_loc char[] filename;\toffset:24;\tsize:4;\tsigned:0;\n"
      "\tfield:__rel_loc u8[] blob;\toffset:28;\tsize:4;\tsigned:0;\n"
      "\tfield:u32 grid[2][3];\toffset:32;\tsize:24;\tsigned:0;\n"
      "\tfield:unsigned long args[];\toffset:56;\tsize:0;\tsigned:0;\n"
      "\tfield:long state;\toffset:56;\tsize:8;\n"  // old kernels had no signed: part
      "print fmt: \"\"\n";
  TracepointFormat f = parse_tracepoint_format(text);
  const TracepointField* comm = f.find("prev_comm");
  ASSERT_NE(comm, nullptr);
  EXPECT_EQ(comm->type, "char[16]");
  EXPECT_EQ(comm->array_len, 16u);
  const TracepointField* filename = f.find("filename");
  ASSERT_NE(filename, nullptr);
  EXPECT_TRUE(filename->data_loc);
  EXPECT_FALSE(filename->rel_loc);
  EXPECT_EQ(filename->type, "char[]");
  EXPECT_EQ(filename->size, 4u);
  EXPECT_TRUE(f.find("blob")->rel_loc);
  EXPECT_EQ(f.find("grid")->type, "u32[2][3]");
  EXPECT_EQ(f.find("grid")->array_len, 6u);
  EXPECT_EQ(f.find("args")->type, "unsigned long[]");
  EXPECT_EQ(f.find("args")->array_len, 0u);
  EXPECT_FALSE(f.find("state")->is_signed);
  EXPECT_EQ(f.size(), 64u);
}

// Each malformed text and the line its error must name.
TEST(TracepointFormatTest, ErrorsNameTheLine) {
  const std::string head = "name: t\nID: 1\nformat:\n";  // lines 1-3
  struct Case {
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {head + "\tfield:int a;\toffset:x;\tsize:4;\tsigned:1;\n", "line 4: 'offset' is not a number"},
      {head + "\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n\tfield:int b;\toffset:4;\tsize:4;\tsigned:1\n",
       "line 5: 'signed:1' does not end with ';'"},
      {head + "\tfield:int a;\toffset:0;\n", "line 4: a field needs"},
      {head + "\tfield:int a;\tsize:0;\toffset:4;\tsigned:1;\n", "line 4: expected 'offset:N'"},
      {head + "\tfield:int a;\toffset:0;\tsize:4;\tsigned:2;\n", "line 4: 'signed' must be 0 or 1"},
      {head + "\tfield:*;\toffset:0;\tsize:4;\tsigned:0;\n", "line 4: no field name"},
      {head + "\tfield:a;\toffset:0;\tsize:4;\tsigned:0;\n", "line 4: field 'a' has no type"},
      {head + "\tfield:int a;\toffset:0;\tsize:4;\tsigned:0;\n\tfield:int a;\toffset:4;\tsize:4;\tsigned:0;\n",
       "line 5: field 'a' appears twice"},
      {head + "\tfield:__data_loc char[] s;\toffset:8;\tsize:8;\tsigned:0;\n", "line 4: __data_loc field 's'"},
      {head + "\tfield:char a16];\toffset:8;\tsize:16;\tsigned:0;\n", "line 4: unbalanced ']'"},
      {head + "\tfield:int a;\toffset:4294967295;\tsize:4;\tsigned:0;\n", "line 4: field 'a' ends past 4 GiB"},
      {head + "garbage here\n", "line 4: unexpected text 'garbage here'"},
      {"name: t\nID: 1\n\tfield:int a;\toffset:0;\tsize:4;\tsigned:0;\n", "line 3: a field before the 'format:'"},
      {"name: t\nID: x1\nformat:\n", "line 2: 'ID:' is not a number"},
      {"name: t\nformat:\n", "no 'ID:' line"},
      {"name: t\nID: 1\n", "no 'format:' section"},
      {"", "no 'format:' section"},
  };
  for (const Case& c : cases) {
    try {
      parse_tracepoint_format(c.text);
      ADD_FAILURE() << "accepted:\n" << c.text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos)
          << "error '" << e.what() << "' lacks '" << c.expect << "'";
    }
  }
}

class TracefsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tracefs_root();
    if (!root_) GTEST_SKIP() << "no tracefs here (not mounted and not mountable: needs root)";
  }
  std::optional<std::string> root_;
};

TEST_F(TracefsTest, LoadsRealFormats) {
  if (!std::filesystem::exists(*root_ + "/events/syscalls/sys_enter_openat")) {
    GTEST_SKIP() << "this kernel has no syscall tracepoints";
  }
  TracepointFormat openat = load_tracepoint_format("syscalls/sys_enter_openat");
  EXPECT_EQ(openat.category, "syscalls");
  EXPECT_EQ(openat.name, "sys_enter_openat");
  std::ifstream id_file(*root_ + "/events/syscalls/sys_enter_openat/id");
  uint32_t id = 0;
  id_file >> id;
  EXPECT_EQ(openat.id, id);
  EXPECT_EQ(openat.find("filename")->offset, 24u);
  EXPECT_EQ(openat.find("filename")->type, "const char *");
  EXPECT_EQ(openat.find("__syscall_nr")->offset, 8u);
  EXPECT_EQ(openat.size(), 48u);

  TracepointFormat sw = load_tracepoint_format("sched:sched_switch");
  const TracepointField* comm = sw.find("prev_comm");
  ASSERT_NE(comm, nullptr);
  EXPECT_EQ(comm->type, "char[16]");
  EXPECT_EQ(comm->array_len, 16u);
  EXPECT_EQ(comm->size, 16u);
  EXPECT_TRUE(sw.find("prev_pid")->is_signed);
  EXPECT_EQ(sw.fields.front().name, "common_type");
  EXPECT_EQ(std::count_if(sw.fields.begin(), sw.fields.end(), [](const auto& f) { return f.common; }), 4);

  TracepointFormat exec = load_tracepoint_format("sched/sched_process_exec");
  ASSERT_NE(exec.find("filename"), nullptr);
  EXPECT_TRUE(exec.find("filename")->data_loc);
  EXPECT_EQ(exec.find("filename")->type, "char[]");
}

TEST_F(TracefsTest, EveryFormatOfThisKernelParses) {
  size_t parsed = 0;
  for (const auto& category : std::filesystem::directory_iterator(*root_ + "/events")) {
    if (!category.is_directory()) continue;
    for (const auto& event : std::filesystem::directory_iterator(category.path())) {
      if (!std::filesystem::exists(event.path() / "format")) continue;
      std::ifstream in(event.path() / "format");
      std::stringstream text;
      text << in.rdbuf();
      try {
        TracepointFormat f = parse_tracepoint_format(text.str());
        EXPECT_FALSE(f.fields.empty()) << event.path();
        ++parsed;
      } catch (const Error& e) {
        ADD_FAILURE() << event.path() << ": " << e.what();
      }
    }
  }
  EXPECT_GT(parsed, 100u);
}

TEST_F(TracefsTest, BadNamesAndMissingEvents) {
  for (const char* bad : {"nocategory", "/x", "x/", "../syscalls/sys_enter_openat", "syscalls/..", "a/b/c"}) {
    EXPECT_THROW(load_tracepoint_format(bad), Error) << bad;
  }
  try {
    load_tracepoint_format("syscalls:no_such_event");
    ADD_FAILURE() << "loaded a missing event";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/events/syscalls/no_such_event/format"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bpfkit::core
