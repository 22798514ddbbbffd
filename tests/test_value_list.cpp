#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <string>

#include "iclab/params/model_params.hpp"
#include "iclab/params/number.hpp"
#include "iclab/params/value_list.hpp"

using namespace iclab;

TEST(ValueList, SingleValueAndList) {
  EXPECT_EQ(parse_value_list("0.5", "--tau"), (std::vector<double>{0.5}));
  EXPECT_EQ(parse_value_list("0.5,1,2", "--tau"), (std::vector<double>{0.5, 1, 2}));
  EXPECT_EQ(parse_value_list("1e-8, 2", "--lambda"), (std::vector<double>{1e-8, 2}));
}

TEST(ValueList, LinearRangeHitsEndpoints) {
  const auto v = parse_value_list("lin:0.1:2.1:81", "--kappa");
  ASSERT_EQ(v.size(), 81u);
  EXPECT_EQ(v.front(), 0.1);
  EXPECT_EQ(v.back(), 2.1);
  EXPECT_NEAR(v[40], 1.1, 1e-15);
}

TEST(ValueList, LogRangeIsGeometricBetweenValues) {
  const auto v = parse_value_list("log:0.01:1000:6", "--alpha");
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v.front(), 0.01);
  EXPECT_EQ(v.back(), 1000.0);
  EXPECT_NEAR(v[2], 1.0, 1e-12);
}

TEST(ValueList, InfinityOnlyWhereAllowed) {
  const auto v = parse_value_list("0.5,inf", "--kappa", {.allow_infinity = true});
  EXPECT_TRUE(std::isinf(v[1]));
  EXPECT_THROW(parse_value_list("inf", "--tau"), InvalidArgument);
}

TEST(ValueList, BadInputNamesTheOption) {
  for (const char* bad : {"", "abc", "1,,2", "1;2", "lin:0:1", "lin:0:1:0", "lin:0:1:2.5", "log:0:1:3", "nan", "1x"}) {
    try {
      parse_value_list(bad, "--tau");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--tau:", 0), 0u) << e.what();
    }
  }
}

TEST(ValueList, IntegerList) {
  EXPECT_EQ(parse_integer_list("20,40", "--d"), (std::vector<long>{20, 40}));
  EXPECT_THROW(parse_integer_list("40.5", "--d"), InvalidArgument);
}

TEST(ValueList, SeedsAreNonNegativeIntegersThatFitTheOutputs) {
  EXPECT_EQ(parse_seed("0", "--seed"), 0u);
  EXPECT_EQ(parse_seed("42", "--seed"), 42u);
  EXPECT_EQ(parse_seed("9223372036854775807", "--seed"), 9223372036854775807u);
  // -1 used to wrap to 18446744073709551615 in the meta while the CSV said -1.
  for (const char* bad : {"-1", "+1", "1.5", "1e3", "", "abc", "7x", "9223372036854775808", "18446744073709551615",
                          "18446744073709551616", "99999999999999999999999"}) {
    try {
      (void)parse_seed(bad, "--seed");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--seed: expected an integer in [0, 9223372036854775807]", 0), 0u)
          << e.what();
    }
  }
}

TEST(GridIndex, LastAxisFastest) {
  const GridIndex grid({2, 3});
  EXPECT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid.at(0), (std::vector<std::size_t>{0, 0}));
  EXPECT_EQ(grid.at(1), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(grid.at(5), (std::vector<std::size_t>{1, 2}));
}

TEST(ModelParams, DerivedSizesFollowTheAuthorsTruncation) {
  ModelParams m;
  m.d = 100;
  m.alpha = 0.57;  // 0.57 * 100 = 56.99999999999999 in double: Python's int() gives 56, and so do we
  m.tau = 0.5;
  m.kappa = 0.29;  // 28.999999999999996 -> 28, as in spec §8
  m.rho = 0.1;
  EXPECT_EQ(m.context_length(), 56);
  EXPECT_EQ(m.num_tasks(), 28);
  EXPECT_EQ(m.num_contexts(), 5000);
  m.assignment = Assignment::balanced;
  EXPECT_EQ(m.num_contexts(), 28 * 179);  // round(5000 / 28) = 179
  m.kappa = kInfinity;
  EXPECT_EQ(m.num_tasks(), m.num_contexts());
  EXPECT_EQ(m.num_parameters(), 100 * 101);
}

TEST(ModelParams, ValidationNamesTheParameter) {
  ModelParams m;
  m.d = 40;
  m.alpha = 10;
  m.tau = 2;
  m.kappa = 0.5;
  m.rho = 0.01;
  EXPECT_NO_THROW(m.validate());
  auto expect_bad = [](ModelParams p, const std::string& option) {
    try {
      p.validate();
      ADD_FAILURE() << "accepted bad " << option;
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(option, 0), 0u) << e.what();
    }
  };
  ModelParams bad = m;
  bad.d = 1;
  expect_bad(bad, "--d");
  bad = m;
  bad.alpha = 0;
  expect_bad(bad, "--alpha");
  bad = m;
  bad.alpha = 0.01;  // l = int(0.4) = 0
  expect_bad(bad, "--alpha");
  bad = m;
  bad.kappa = 0.001;  // k = 0
  expect_bad(bad, "--kappa");
  bad = m;
  bad.rho = -1;
  expect_bad(bad, "--rho");
  bad = m;
  bad.tau = -2;
  expect_bad(bad, "--tau");
}

// Counts past 2^53 used to overflow the conversion to long and come out as "too small" or negative.
TEST(ModelParams, CountsThatDoNotFitAreRefusedWithTheLargestAllowed) {
  ModelParams m;
  m.d = 40;
  m.alpha = 10;
  m.tau = 2;
  m.kappa = 0.5;
  m.rho = 0.01;
  auto message = [](ModelParams p) -> std::string {
    try {
      p.validate();
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "accepted";
  };
  ModelParams bad = m;
  bad.tau = 1e17;
  EXPECT_EQ(message(bad), "--tau: tau*d^2 must be at most 2^53, so tau <= 5.62e+12 for d=40");
  bad.tau = 5.62e12;  // the largest allowed is allowed
  EXPECT_EQ(message(bad), "accepted");
  bad = m;
  bad.kappa = 1e300;
  EXPECT_EQ(message(bad), "--kappa: kappa*d must be at most 2^53, so kappa <= 2.25e+14 (or inf) for d=40");
  bad.kappa = kInfinity;
  EXPECT_EQ(message(bad), "accepted");
  bad = m;
  bad.alpha = 1e300;
  EXPECT_EQ(message(bad), "--alpha: alpha*d must be at most 2^53, so alpha <= 2.25e+14 for d=40");
  bad = m;
  bad.d = 94906266;
  bad.tau = 1e-15;
  EXPECT_EQ(message(bad).rfind("--d: must be at most 94906265 ", 0), 0u) << message(bad);
  bad.d = 94906265;
  EXPECT_EQ(message(bad), "accepted");
}

// Issue 14: the product of four lists of 1e5 values wrapped around 2^64 and iclab printed only a header
// with exit 0. The size is a checked product, refused past kMaxGridPoints.
TEST(GridIndex, RefusesAProductPastItsLimitInsteadOfWrapping) {
  EXPECT_THROW(GridIndex({100000, 100000, 100000, 100000}), InvalidArgument);
  EXPECT_THROW(GridIndex({std::size_t{1} << 32, std::size_t{1} << 32, 2}), InvalidArgument);
  try {
    GridIndex({100000, 100000, 100000});
    FAIL() << "no refusal";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("100000 x 100000 x 100000"), std::string::npos) << e.what();
  }
  EXPECT_EQ(GridIndex({10000, 10000}).size(), GridIndex::kMaxGridPoints);
  EXPECT_EQ(GridIndex({0, 100000, 100000, 100000}).size(), 0u);
}

TEST(Number, TheOneConversionReadsTheWholeTextOrNothing) {
  EXPECT_EQ(to_number("0.5"), 0.5);
  EXPECT_EQ(to_number("-1e-3"), -1e-3);
  EXPECT_EQ(to_number("1e-310"), 1e-310);  // subnormal, but representable
  EXPECT_TRUE(std::isinf(to_number("inf").value_or(0.0)));
  EXPECT_TRUE(std::isnan(to_number("nan").value_or(0.0)));
  // Trailing garbage (std::stod read 0.5), blanks, signs and prefixes are the callers' business, overflow
  // and underflow past the double range are refused.
  for (const char* bad : {"", "0.5abc", " 1", "1 ", "+1", "0x10", "1e", "1,5", "abc", "1e400", "-1e400", "1e-400"})
    EXPECT_FALSE(to_number(bad).has_value()) << "'" << bad << "'";
  EXPECT_EQ(to_finite_number("2.5"), 2.5);
  for (const char* word : {"inf", "-inf", "nan", "infinity"}) EXPECT_FALSE(to_finite_number(word).has_value()) << word;

  EXPECT_EQ(to_integer<long>("-3"), -3L);
  EXPECT_EQ(to_integer<std::uint64_t>("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(to_integer<std::uint64_t>("18446744073709551616").has_value());  // would wrap to 0
  EXPECT_FALSE(to_integer<std::uint64_t>("-1").has_value());                    // would wrap to 2^64 - 1
  EXPECT_FALSE(to_integer<int>("2147483648").has_value());
  for (const char* bad : {"", "1.0", "1e3", " 7", "7 ", "+7", "0x7", "7abc"})
    EXPECT_FALSE(to_integer<long>(bad).has_value()) << "'" << bad << "'";
}

// The promise of issue 14 (docs/reliability.md): no parser converts text to a number by other means
// (std::stod read "0.5abc" as 0.5 and leaked its own name as the message; from_chars copies drifted).
TEST(Number, NoOtherTextToNumberConversionInTheSources) {
  namespace fs = std::filesystem;
  const std::regex other(R"(std::sto(d|f|i|l|ll|ul|ull|ld)\(|\bato[fil]\(|\bstrto(d|f|l|ul|ll|ull|ld)\(|from_chars\()");
  const fs::path root(ICLAB_SOURCE_DIR);
  int files = 0;
  for (const char* dir : {"src", "apps", "python/src"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".inc")) continue;
      if (entry.path().filename() == "number.hpp") continue;  // the one conversion itself
      std::ifstream in(entry.path());
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::smatch found;
      EXPECT_FALSE(std::regex_search(text, found, other))
          << entry.path() << " converts text to a number with " << found.str() << "; use iclab/params/number.hpp";
      ++files;
    }
  }
  EXPECT_GT(files, 100);  // the sources were found
}
