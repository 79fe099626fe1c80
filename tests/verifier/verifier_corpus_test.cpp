// bpfkit's verifier on the corpus (tests/verifier/corpus/*.vcase): every case's
// verdict and rejection kind must match its label. The same labels are checked
// against the kernel's verifier in tests/kernel/verifier_corpus_kernel_test.cpp.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <cstdlib>
#include <iostream>

#include "testing/verifier_case.h"
#include "verifier/verifier.h"

namespace bpfkit::verifier {
namespace {

const std::string kCorpus = std::string(BPFKIT_SOURCE_DIR) + "/tests/verifier/corpus";

VerifyResult verify_case(const testgen::VerifierCase& c, uint32_t log_level = 0) {
  VerifyOptions o;
  o.log_level = log_level;
  return verify_program(c.verify_input(), o);
}

// Cases bpfkit's verifier does not yet decide as labelled, each with what is
// missing. A gap that starts passing fails the test, so this list stays true.
const std::map<std::string, std::string> kKnownGaps = {
    {"map_values.vcase:array lookup with a constant in-range key, no null check",
     "constant-key array lookups are not yet known non-NULL (the kernel does not know it either)"},
    {"scalars.vcase:a value and its offset copy bounded together",
     "linked scalars with a constant offset between them (rY = rX + K) are not tracked"},
    {"scalars.vcase:bounded value widened by two 4-byte stores then an 8-byte load",
     "bounds through partial stack stores (beyond the kernel)"},
    {"scalars.vcase:the quotient of a division is bounded by the dividend",
     "bounds through division (beyond the kernel)"},
};

class CorpusFile : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusFile, VerdictsMatchTheLabels) {
  const auto cases = testgen::load_verifier_case_file(GetParam());
  ASSERT_FALSE(cases.empty());
  int mismatches = 0, gaps = 0;
  const bool trace = std::getenv("BPFKIT_VCASE_TRACE") != nullptr;
  for (const testgen::VerifierCase& c : cases) {
    if (trace) std::cerr << "verifying " << c.where() << std::endl;
    const VerifyResult r = verify_case(c);
    const bool ok = c.expect_accept ? r.ok : (!r.ok && r.kind == c.expect_kind);
    const auto gap = kKnownGaps.find(std::filesystem::path(c.file).filename().string() + ":" + c.name);
    if (gap != kKnownGaps.end()) {
      ++gaps;
      EXPECT_FALSE(ok) << c.where() << " is listed as a known gap (" << gap->second
                       << ") but now passes: remove it from kKnownGaps";
      continue;
    }
    if (ok) continue;
    ++mismatches;
    ADD_FAILURE() << c.where() << ": expected "
                  << (c.expect_accept ? "accept" : "reject " + std::string(reject_kind_name(c.expect_kind)))
                  << ", bpfkit says " << (r.ok ? "accept" : "reject " + std::string(reject_kind_name(r.kind)))
                  << (r.ok ? "" : "\n" + r.message);
  }
  std::cout << GetParam() << ": " << cases.size() - mismatches - gaps << "/" << cases.size()
            << " cases as labelled, " << gaps << " known gaps\n";
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusFile, ::testing::ValuesIn(testgen::verifier_corpus_files(kCorpus)),
                         [](const auto& info) {
                           std::string n = std::filesystem::path(info.param).stem().string();
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(Corpus, HasAtLeast300Cases) {
  EXPECT_GE(testgen::load_verifier_corpus(kCorpus).size(), 300u);
}

}  // namespace
}  // namespace bpfkit::verifier
