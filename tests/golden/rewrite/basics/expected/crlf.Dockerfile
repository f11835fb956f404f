FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1.4
RUN echo "windows line ends"
FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/ubuntu@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
