"""Print what the whole-appliance test measured (boot to home, phases, sandbox) after the run, even when it passed."""

from tests.system import appliance


def pytest_terminal_summary(terminalreporter):
    if appliance.REPORT:
        terminalreporter.section("whole-appliance test")
        for line in appliance.REPORT:
            terminalreporter.write_line(line)
