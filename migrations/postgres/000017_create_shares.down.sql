DROP TABLE share_views;
DROP TABLE shares;
