// The score history: an embedded SQLite database of scoring runs, trends and alerts.
