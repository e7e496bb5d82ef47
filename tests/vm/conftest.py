"""Print what the installer-stick VM test measured (times, sizes, memory, screendumps) after the run."""

from tests.vm import stick


def pytest_terminal_summary(terminalreporter):
    if stick.REPORT:
        terminalreporter.section("installer-stick VM test")
        for line in stick.REPORT:
            terminalreporter.write_line(line)
