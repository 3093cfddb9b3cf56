include $(sort $(wildcard $(BR2_EXTERNAL_XENCFG_PATH)/package/*/*.mk))
