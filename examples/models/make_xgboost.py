"""Trains examples/models/churn-xgb.json, the XGBoost model the example stacks serve, from
examples/data/churn.csv. Needs the xgboost package (pip install xgboost-cpu).

Run: python3 examples/models/make_xgboost.py
"""
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
rows = np.loadtxt(os.path.join(HERE, "..", "data", "churn.csv"), delimiter=",", skiprows=1)
x, y = rows[:, :3], rows[:, 3]
booster = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 7},
                    xgb.DMatrix(x, label=y, feature_names=["tenure_months", "monthly_charges", "support_tickets"]),
                    num_boost_round=20)
booster.save_model(os.path.join(HERE, "churn-xgb.json"))
print("wrote churn-xgb.json:", booster.num_boosted_rounds(), "trees")
