-- Dead letters per arrival day and the plugin that rejected them.
SELECT dt, plugin, COUNT(*) AS rejects
FROM ecommerce_events_errors
GROUP BY dt, plugin
ORDER BY dt, plugin;
