// What the examples share: one command-line convention (on CLI11) and timings a user can trust.
//
// Command line: --help prints the usage to stdout and exits 0; a bad flag or value prints one
// line and the usage to stderr and exits 2; --flag=value and --flag value both work.
// Timings: each measurement is repeated (--repeat K), and the median and spread are printed;
// a spread above 10 % says the machine looks loaded.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace example {

// Validators with messages a user can read ("must be a positive integer, got '-5'").
inline CLI::Validator whole_number(long long minimum, const char* what) {
  return CLI::Validator(
      [minimum, what](std::string& text) -> std::string {
        std::size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || value < minimum) {
          return std::string("must be ") + what + ", got '" + text + "'";
        }
        return {};
      },
      what);
}
inline CLI::Validator positive_integer() { return whole_number(1, "a positive integer"); }
inline CLI::Validator non_negative_integer() { return whole_number(0, "an integer >= 0"); }

inline void parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\n" << app.help();
    std::exit(2);
  }
}

// The median and the spread ((max - min) / median) of repeated timings, in seconds.
struct timing {
  double median = 0;
  double spread = 0;
};

template <class F>
timing measure(int repeats, F&& once) {
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    once();
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  timing t;
  const std::size_t n = seconds.size();
  t.median = n % 2 == 1 ? seconds[n / 2] : (seconds[n / 2 - 1] + seconds[n / 2]) / 2;
  t.spread = t.median > 0 ? (seconds.back() - seconds.front()) / t.median : 0;
  return t;
}

// One warning for all the timings of a run whose spread was above 10 %.
inline void warn_if_loaded(const std::vector<timing>& timings) {
  double worst = 0;
  for (const timing& t : timings) worst = std::max(worst, t.spread);
  if (worst > 0.10) {
    std::printf(
        "note: timings varied by up to %.0f%% between repeats: the machine looks loaded; "
        "the medians are less trustworthy\n",
        worst * 100);
  }
}

// `text` as the inside of a JSON string literal (the examples' --json output).
inline std::string json_escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace example
