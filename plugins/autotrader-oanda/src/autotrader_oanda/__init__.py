"""OANDA v20 broker for autotrader: an adapter on oandapyV20 and a local v20 venue to test it against."""

__version__ = "0.1.0"
