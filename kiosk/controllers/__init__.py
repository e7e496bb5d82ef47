"""Controllers: each decides one job (calls, family, health, staff) and tells the window which screen to show."""
