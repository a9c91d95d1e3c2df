import HealthScoreCommands

HealthScore.main()
